/** English text of the usage reports and quota commands (kept apart so it can grow on its own). */
export const enUsage = {} satisfies Record<string, (params: never) => string>;
