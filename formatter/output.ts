// The result shape TTS and ChirpStack share: `warnings` and `errors` appear only when non-empty.

export function withProblems<T extends object>(output: T, warnings?: string[], errors?: string[]): T & {
  warnings?: string[]; errors?: string[];
} {
  var out: T & { warnings?: string[]; errors?: string[] } = output;
  if (warnings && warnings.length) out.warnings = warnings;
  if (errors && errors.length) out.errors = errors;
  return out;
}
