/** One line for a failed command: the error's own message, first line only, never a stack. */
export function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] || (error as Error).name || 'failed';
}
