// A unified diff with added, removed, hunk and header lines told apart by colour.

/** The CSS class of one line of a unified diff. */
export function diffLineClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
  if (line.startsWith("@@")) return "diff-hunk";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  return "diff-context";
}

export function DiffView({ diff }: { diff: string }) {
  const lines = diff.endsWith("\n") ? diff.slice(0, -1).split("\n") : diff.split("\n");
  return (
    <pre className="diff" data-testid="approval-diff">
      {lines.map((line, i) => (
        <span key={i} className={diffLineClass(line)} data-testid="diff-line">
          {line}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}
