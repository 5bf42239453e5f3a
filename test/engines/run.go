// Runs a payload formatter in the Go engines of the network servers: goja (The Things Stack) and
// otto (ChirpStack v3), each call in a fresh runtime that evaluates the whole script first, as those
// servers do. Built by test/support/engines.ts with GO111MODULE=off against Debian's Go sources.
//
// It reads one JSON request on stdin and writes one JSON answer on stdout:
//
//	{"mode":"run","script":"dist/formatter.js","engines":["goja","otto"],"calls":[{"fn":"decodeUplink","args":[{...}]}]}
//	→ {"goja":["<JSON.stringify of the result>", …],"otto":[…]}  (a thrown error: {"threw":"…"})
//
//	{"mode":"bench","script":"…","engines":["goja"],"calls":[{"fn":"decodeUplink","args":[…]}],"repeat":200}
//	→ {"goja":["<median CPU nanoseconds of one call (the process's, garbage collection included): new runtime, evaluate, call>"]}
package main

import (
	"encoding/json"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"github.com/dop251/goja"
	"github.com/robertkrimen/otto"
)

type call struct {
	Fn   string          `json:"fn"`
	Args json.RawMessage `json:"args"`
}

type request struct {
	Mode    string   `json:"mode"`
	Script  string   `json:"script"`
	Engines []string `json:"engines"`
	Calls   []call   `json:"calls"`
	Repeat  int      `json:"repeat"`
}

// The call runs inside the engine, its arguments written as a literal (JSON is one, once the two line
// separators ES5 forbids in strings are escaped; otto's JSON.parse would lose the order of keys) and
// its result serialized by the engine's own JSON.stringify.
func expression(c call) string {
	args := strings.NewReplacer("\u2028", `\u2028`, "\u2029", `\u2029`).Replace(string(c.Args))
	return "JSON.stringify(" + c.Fn + ".apply(null, " + args + "))"
}

func threw(err error) string {
	out, _ := json.Marshal(map[string]string{"threw": err.Error()})
	return string(out)
}

func runGoja(script string, c call) string {
	vm := goja.New()
	if _, err := vm.RunString(script); err != nil {
		return threw(err)
	}
	v, err := vm.RunString(expression(c))
	if err != nil {
		return threw(err)
	}
	return v.String()
}

func runOtto(script string, c call) string {
	vm := otto.New()
	if _, err := vm.Run(script); err != nil {
		return threw(err)
	}
	v, err := vm.Run(expression(c))
	if err != nil {
		return threw(err)
	}
	return v.String()
}

func engine(name string) func(string, call) string {
	switch name {
	case "goja":
		return runGoja
	case "otto":
		return runOtto
	}
	fmt.Fprintf(os.Stderr, "unknown engine %q: goja or otto\n", name)
	os.Exit(2)
	return nil
}

// The CPU time of the whole process (all threads, so the collector's work too), in nanoseconds: on a shared
// machine it does not count the time spent waiting for a core.
func cpuNanos() int64 {
	var ts syscall.Timespec
	const clockProcessCPUTimeID = 2
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return ts.Nano()
}

// The median CPU time of `repeat` calls, each in a fresh runtime.
func bench(run func(string, call) string, script string, c call, repeat int) string {
	times := make([]float64, repeat)
	for i := range times {
		start := cpuNanos()
		run(script, c)
		times[i] = float64(cpuNanos() - start)
	}
	sort.Float64s(times)
	return strconv.FormatFloat(times[repeat/2], 'f', 0, 64)
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fmt.Fprintln(os.Stderr, "bad request:", err)
		os.Exit(2)
	}
	source, err := ioutil.ReadFile(req.Script)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	script := string(source)
	answer := map[string][]string{}
	for _, name := range req.Engines {
		run := engine(name)
		results := []string{}
		for _, c := range req.Calls {
			if req.Mode == "bench" {
				run(script, c) // warm the Go code paths once
				results = append(results, bench(run, script, c, req.Repeat))
			} else {
				results = append(results, run(script, c))
			}
		}
		answer[name] = results
	}
	if err := json.NewEncoder(os.Stdout).Encode(answer); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
