// One line that says what went wrong, for command-line tools: never a stack trace.

/** The message of an error as a person needs it; pg's connection errors can have an empty message. */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return describeError(error.errors[0]);
  if (error instanceof Error) {
    const { code } = error as NodeJS.ErrnoException;
    return error.message || code || error.name;
  }
  return String(error);
}
