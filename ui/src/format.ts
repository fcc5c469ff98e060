// Display helpers shared by screens.

/** An RFC 3339 time in the user's locale, or a dash when absent. */
export function when(time: string | null): string {
  return time ? new Date(time).toLocaleString() : "—";
}

/** Key versions as people read them: "v1, v2", or "none". */
export function versions(list: number[]): string {
  return list.length === 0 ? "none" : list.map((v) => `v${v}`).join(", ");
}
