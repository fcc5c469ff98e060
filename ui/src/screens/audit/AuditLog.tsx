// One chain's entries, newest first, a page at a time. Paging follows the core's
// `next_before`; going back to newer pages re-reads the remembered page starts.
import { useCallback, useEffect, useState } from "react";
import { auditApi, NO_FILTER, type AuditFilter, type AuditPage } from "../../api/audit";
import { useAction } from "../../shell-context";
import { AuditFilters } from "./AuditFilters";
import { AuditTable } from "./AuditTable";

/** Entries per page. */
export const PAGE_SIZE = 50;

export function AuditLog({ scope }: { scope: string }) {
  const action = useAction();
  const [filter, setFilter] = useState<AuditFilter>(NO_FILTER);
  // The `before_seq` of each page shown so far; the last one is the current page.
  const [starts, setStarts] = useState<(number | null)[]>([null]);
  const [page, setPage] = useState<AuditPage | null>(null);
  const before = starts[starts.length - 1] ?? null;
  const { run } = action;

  const load = useCallback(
    () =>
      run(async () => {
        setPage(await auditApi.query(scope, { ...filter, limit: PAGE_SIZE, before_seq: before }));
      }),
    [run, scope, filter, before],
  );

  useEffect(() => {
    void load();
  }, [load]);

  return (
    <div className="panel" data-testid="audit-log">
      <h2>Events</h2>
      <AuditFilters
        busy={action.busy}
        onApply={(next) => {
          setFilter(next);
          setStarts([null]);
        }}
      />
      {action.error && (
        <p className="error" role="alert" data-testid="audit-error">
          {action.error}
        </p>
      )}
      {page && <AuditTable entries={page.entries} />}
      <div className="row">
        <button
          className="secondary"
          disabled={action.busy || starts.length === 1}
          onClick={() => setStarts(starts.slice(0, -1))}
          data-testid="audit-newer"
        >
          Newer
        </button>
        <span className="muted" data-testid="audit-page">
          Page {starts.length}
        </span>
        <button
          className="secondary"
          disabled={action.busy || page?.next_before == null}
          onClick={() => page?.next_before != null && setStarts([...starts, page.next_before])}
          data-testid="audit-older"
        >
          Older
        </button>
        <button className="link" disabled={action.busy} onClick={() => void load()} data-testid="audit-refresh">
          Refresh
        </button>
      </div>
    </div>
  );
}
