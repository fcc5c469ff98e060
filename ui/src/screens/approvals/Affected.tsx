// What a request would touch, as the tool describes it for reviewers: the path and diff of a
// file write, the recipients of an email, the method and URL of an HTTP request, the command,
// folder and sandbox of a shell command.
import { json } from "../../format";
import { DiffView } from "./DiffView";

type Fields = Record<string, unknown>;

function text(fields: Fields, key: string): string {
  const value = fields[key];
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

interface Recipient {
  address: string;
  kind: string;
}

function recipients(fields: Fields): Recipient[] {
  const list = fields["recipients"];
  if (!Array.isArray(list)) return [];
  return list.map((r: { address?: unknown; kind?: unknown }) => ({
    address: typeof r.address === "string" ? r.address : "",
    kind: typeof r.kind === "string" ? r.kind : "to",
  }));
}

export function Affected({ affected }: { affected: Fields }) {
  const kind = text(affected, "kind");
  switch (kind) {
    case "file_write":
      return (
        <div data-testid="approval-affected" data-kind={kind}>
          <p>
            Writes <code data-testid="approval-path">{text(affected, "path")}</code>
            {affected["exists"] === true ? " (replacing the current file)" : " (a new file)"}
          </p>
          <DiffView diff={text(affected, "diff")} />
        </div>
      );
    case "email":
      return (
        <div data-testid="approval-affected" data-kind={kind}>
          <dl className="facts">
            <dt>From</dt>
            <dd>{text(affected, "from")}</dd>
            <dt>Recipients</dt>
            <dd>
              <ul data-testid="approval-recipients">
                {recipients(affected).map((r) => (
                  <li key={`${r.kind}-${r.address}`}>
                    {r.kind}: {r.address}
                  </li>
                ))}
              </ul>
            </dd>
            <dt>Subject</dt>
            <dd data-testid="approval-subject">{text(affected, "subject")}</dd>
            <dt>Server</dt>
            <dd>{text(affected, "server")}</dd>
          </dl>
          <pre className="payload" data-testid="approval-body-preview">
            {text(affected, "body_preview")}
          </pre>
        </div>
      );
    case "http":
      return (
        <div data-testid="approval-affected" data-kind={kind}>
          <p data-testid="approval-http">
            <strong>{text(affected, "method")}</strong> <code>{text(affected, "url")}</code>
          </p>
          {text(affected, "body_preview") && <pre className="payload">{text(affected, "body_preview")}</pre>}
        </div>
      );
    case "shell":
      return (
        <div data-testid="approval-affected" data-kind={kind}>
          <pre className="payload" data-testid="approval-command">
            $ {text(affected, "command")}
          </pre>
          <dl className="facts">
            <dt>Folder</dt>
            <dd data-testid="approval-cwd">{text(affected, "cwd") || "(workspace files folder)"}</dd>
            <dt>Sandbox</dt>
            <dd data-testid="approval-sandbox">{text(affected, "sandbox")}</dd>
          </dl>
        </div>
      );
    default:
      return (
        <pre className="payload" data-testid="approval-affected" data-kind={kind}>
          {json(affected)}
        </pre>
      );
  }
}
