/**
 * Edits a reply with progress at most once per interval. Discord rate-limits message edits, and a
 * reply that changes every second reads as noise; the latest text wins and no two edits overlap,
 * so a late progress edit can never land on top of the final result.
 */
export type ProgressReporter = {
  /** Stop ticking and wait for an edit under way, so the caller's next edit is the last word. */
  stop(): Promise<void>;
};

export function startProgressReporter(options: {
  render: () => string;
  edit: (text: string) => Promise<unknown>;
  intervalMs: number;
  onEditError?: (error: unknown) => void;
}): ProgressReporter {
  let inFlight: Promise<void> | undefined;
  let lastSent: string | undefined;
  let stopped = false;

  const tick = () => {
    if (stopped || inFlight) return;
    const text = options.render();
    if (text === lastSent) return;
    lastSent = text;
    inFlight = options
      .edit(text)
      .then(() => undefined, (error: unknown) => options.onEditError?.(error))
      .finally(() => {
        inFlight = undefined;
      });
  };

  const timer = setInterval(tick, options.intervalMs);
  timer.unref?.();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await inFlight;
    },
  };
}

/** `m:ss` for progress text. */
export function formatElapsed(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}
