import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import type { ToolsOverview } from "../../api/tools";
import { person, renderInShell, workspaceAs } from "../../test-support";
import { referencedName } from "./EmailConfigForm";
import { ToolsScreen } from "./ToolsScreen";

function overview(emailEnabled: boolean): ToolsOverview {
  return {
    actions: [
      { name: "email.send", tool: "email", summary: "Send an email", crosses_boundary: true, enabled: emailEnabled, tier: "medium", args_schema: {} },
      { name: "file.read", tool: "file", summary: "Read a file", crosses_boundary: false, enabled: false, tier: "low", args_schema: {} },
    ],
    rules: [],
    own_domains: [],
    config: {
      http: {
        allowed_hosts: ["api.example.com"],
        allowed_internal: [],
        connect_timeout_ms: 5000,
        total_timeout_ms: 30000,
        max_response_bytes: 1048576,
        max_request_bytes: 1048576,
        max_redirects: 0,
      },
      email: null,
      file: { max_read_bytes: 1048576, max_write_bytes: 1048576, max_list_entries: 1000 },
      shell: { tcp_ports: [], wall_seconds: 10, memory_mb: 256, max_processes: 64, max_output_kb: 1024 },
    },
  };
}

describe("Tools screen", () => {
  let enabled: boolean;

  beforeEach(() => {
    enabled = false;
    invoke.mockReset();
    invoke.mockImplementation(async (command: string) => {
      switch (command) {
        case "list_tools":
          return overview(enabled);
        case "list_credentials":
          return [{ name: "smtp", created_at: "", updated_at: "", last_used_at: null }];
        case "enable_tool":
          enabled = true;
          return null;
        case "configure_tool":
        case "set_tool_tier":
          return null;
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("enables an action, marks the boundary-crossing ones and changes a tier", async () => {
    renderInShell(<ToolsScreen />, person("alice", "admin", [workspaceAs("admin")]));
    const email = await screen.findByText("email.send");
    const row = email.closest("tr") as HTMLElement;
    expect(within(row).getByTestId("tool-boundary").textContent).toContain("crosses");
    const fileRow = screen.getAllByTestId("tool-row").find((r) => r.dataset.name === "file.read") as HTMLElement;
    expect(within(fileRow).getByTestId("tool-boundary").textContent).toBe("");

    fireEvent.click(within(row).getByTestId("tool-toggle"));
    await waitFor(() =>
      expect(screen.getAllByTestId("tool-row").find((r) => r.dataset.name === "email.send")?.dataset.enabled).toBe("true"),
    );
    expect(invoke).toHaveBeenCalledWith("enable_tool", { workspaceId: "ws-1", target: "email.send", tier: null });

    fireEvent.change(within(row).getByTestId("tool-tier"), { target: { value: "high" } });
    await waitFor(() =>
      expect(invoke).toHaveBeenCalledWith("set_tool_tier", { workspaceId: "ws-1", target: "email.send", tier: "high" }),
    );
  });

  it("configures email with a credential reference picked by name, never a value", async () => {
    renderInShell(<ToolsScreen />, person("alice", "admin", [workspaceAs("admin")]));
    // A text field until the credential names arrive, then a picker of them.
    const picker = () => screen.getByTestId("email-password-credential") as HTMLSelectElement;
    await waitFor(() => expect(picker().tagName).toBe("SELECT"));
    expect([...picker().options].map((o) => o.value)).toEqual(["", "smtp"]);
    fireEvent.change(screen.getByTestId("email-host"), { target: { value: "mail.acme.test" } });
    fireEvent.change(screen.getByTestId("email-from"), { target: { value: "agents@acme.test" } });
    fireEvent.change(picker(), { target: { value: "smtp" } });
    fireEvent.submit(screen.getByTestId("email-config-form"));
    await screen.findByTestId("tool-config-email-saved");
    expect(invoke).toHaveBeenCalledWith("configure_tool", {
      workspaceId: "ws-1",
      tool: "email",
      settings: [
        { key: "host", value: "mail.acme.test" },
        { key: "port", value: "587" },
        { key: "tls", value: "starttls" },
        { key: "from", value: "agents@acme.test" },
        { key: "username", value: "" },
        { key: "password", value: "{{credential:smtp}}" },
      ],
    });
    expect(referencedName("{{credential:smtp-pass}}")).toBe("smtp-pass");
    expect(referencedName("hunter2")).toBe("");
  });

  it("shows tiers read-only without policy.manage", async () => {
    const toolsOnly = { id: "ws-1", name: "Acme Corp", role: "Tooling", capabilities: ["workspace.read", "tool.manage"] };
    renderInShell(<ToolsScreen />, person("tess", "viewer", [toolsOnly]));
    await screen.findAllByTestId("tool-row");
    expect(screen.getAllByTestId("tool-tier").map((t) => t.tagName)).toEqual(["SPAN", "SPAN"]);
    expect(invoke).not.toHaveBeenCalledWith("list_credentials", expect.anything());
  });
});
