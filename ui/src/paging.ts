// A list the core returns page by page (`Page<T>`: items, total, next_cursor), shown as one
// growing list with "Show more". A reload (after an event, a decision, a change of filter)
// reads again as many items as were shown, so pages already opened stay open; a "Show more"
// whose answer arrives after a reload or a change of filter is dropped, and items are never
// shown twice.
import { useCallback, useRef, useState } from "react";
import type { Page, PageRequest } from "./api/generated";

/** The most the core returns in one page. */
const MAX_PAGE = 200;

export interface PagedList<T> {
  /** What is shown; null until the first read. */
  page: Page<T> | null;
  /** Reads the list again, as many items as are shown (at least one page). */
  reload: () => Promise<void>;
  /** Appends the next page. */
  more: () => Promise<void>;
}

/**
 * `fetch` reads one page; `key` names what is listed (a workspace and filter): when it changes,
 * the list starts again from one page. `run` is the screen's action runner (busy and errors).
 */
export function usePagedList<T extends { id: string }>(
  key: string,
  pageSize: number,
  fetch: (page: PageRequest) => Promise<Page<T>>,
  run: (work: () => Promise<void>) => Promise<boolean>,
): PagedList<T> {
  const [page, setPageState] = useState<Page<T> | null>(null);
  // The page on screen, for a "Show more" to check that it still extends what it read.
  const current = useRef<Page<T> | null>(null);
  const setPage = (next: Page<T>) => {
    current.current = next;
    setPageState(next);
  };
  const generation = useRef(0);
  const shown = useRef({ key, count: pageSize });
  if (shown.current.key !== key) shown.current = { key, count: pageSize };

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    await run(async () => {
      const want = Math.max(pageSize, shown.current.count);
      const items: T[] = [];
      let request: PageRequest = { limit: Math.min(MAX_PAGE, want) };
      for (;;) {
        const found = await fetch(request);
        items.push(...found.items);
        if (!found.next_cursor || items.length >= want) {
          // A later reload (or another filter) supersedes this one.
          if (mine === generation.current) setPage({ ...found, items: unique(items) });
          return;
        }
        request = { cursor: found.next_cursor, limit: Math.min(MAX_PAGE, want - items.length) };
      }
    });
  }, [fetch, run, pageSize]);

  const more = useCallback(async () => {
    const base = current.current;
    const cursor = base?.next_cursor;
    if (!base || !cursor) return;
    const mine = generation.current;
    const listed = shown.current.key;
    await run(async () => {
      const next = await fetch({ cursor, limit: pageSize });
      // The list was read again (or is another list) meanwhile: this page does not extend it.
      if (current.current !== base || mine !== generation.current || shown.current.key !== listed) return;
      const items = unique([...base.items, ...next.items]);
      shown.current = { key: listed, count: items.length };
      setPage({ ...next, items });
    });
  }, [fetch, run, pageSize]);

  return { page, reload, more };
}

/** Items in order, each id once (the first time it appears). */
function unique<T extends { id: string }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.id) && (seen.add(item.id), true));
}
