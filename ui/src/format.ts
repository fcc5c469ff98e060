// Display helpers shared by screens.

/** An RFC 3339 time in the user's locale, or a dash when absent. */
export function when(time: string | null): string {
  return time ? new Date(time).toLocaleString() : "—";
}

/** Key versions as people read them: "v1, v2", or "none". */
export function versions(list: number[]): string {
  return list.length === 0 ? "none" : list.map((v) => `v${v}`).join(", ");
}

/** A time span as people read it: "2 h 5 min", "3 min", "40 s", or "expired" at zero. */
export function timeLeft(ms: number): string {
  if (ms <= 0) return "expired";
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
}

/** A value as indented JSON, for payloads and arguments. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) ?? "null";
}

/** Parses a comma-separated list, dropping blanks. */
export function commaList(text: string): string[] {
  return text
    .split(",")
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
