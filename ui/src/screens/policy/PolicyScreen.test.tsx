import { fireEvent, screen, waitFor } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import type { AuditEntry } from "../../api/audit";
import type { RuleSummary } from "../../api/tools";
import { person, renderInShell, workspaceAs } from "../../test-support";
import { PolicyScreen } from "./PolicyScreen";
import { currentExpiry } from "./PolicySettings";

function change(seq: number, action: string, payload: unknown): AuditEntry {
  return {
    seq,
    time: "2026-11-27T10:00:00.000Z",
    actor_kind: "user",
    actor_id: "id-alice",
    actor_name: "alice",
    action,
    target: "",
    outcome: "allowed",
    source: { client: "desktop" },
    run_id: "",
    step_id: "",
    approval_id: "",
    payload,
  };
}

describe("Policy screen", () => {
  let rules: RuleSummary[];

  beforeEach(() => {
    rules = [{ id: "email-outside", description: "email-outside: on email.send … raise to high", rule: {} }];
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args: { text?: string }) => {
      switch (command) {
        case "list_tools":
          return {
            actions: [{ name: "email.send", tool: "email", summary: "", crosses_boundary: true, enabled: true, tier: "medium" }],
            rules,
            own_domains: ["acme.test"],
            config: {},
          };
        case "policy_history":
          return [change(9, "policy.expiry_set", { medium_minutes: 30, high_minutes: 60, critical_minutes: 90 })];
        case "add_rule":
          if (!args.text?.includes(":")) throw { code: "invalid_input", message: "invalid rule: expected `ID:` at the start" };
          rules = [...rules, { id: "big", description: "big: on email.send when recipients > 5: raise to critical", rule: {} }];
          return rules[1];
        case "remove_rule":
          return null;
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("adds a rule, shows the core's refusal of a bad one, and removes one", async () => {
    renderInShell(<PolicyScreen />, person("alice", "admin", [workspaceAs("admin")]));
    await screen.findAllByTestId("policy-rule");
    fireEvent.change(screen.getByTestId("policy-rule-text"), { target: { value: "nonsense" } });
    fireEvent.submit(screen.getByTestId("policy-rule-form"));
    expect((await screen.findByTestId("policy-error")).textContent).toContain("expected `ID:`");

    fireEvent.change(screen.getByTestId("policy-rule-text"), { target: { value: "big: on email.send when recipients > 5 then raise critical" } });
    fireEvent.submit(screen.getByTestId("policy-rule-form"));
    await waitFor(() => expect(screen.getAllByTestId("policy-rule")).toHaveLength(2));
    expect((screen.getByTestId("policy-rule-text") as HTMLTextAreaElement).value).toBe("");

    fireEvent.click(screen.getAllByTestId("policy-rule-remove")[0] as HTMLElement);
    await waitFor(() => expect(invoke).toHaveBeenCalledWith("remove_rule", { workspaceId: "ws-1", id: "email-outside" }));
  });

  it("shows the expiry in force from the history and the history itself", async () => {
    renderInShell(<PolicyScreen />, person("alice", "admin", [workspaceAs("admin")]));
    await screen.findByTestId("policy-history-row");
    expect((screen.getByTestId("policy-expiry-high") as HTMLInputElement).value).toBe("60");
    expect((screen.getByTestId("policy-domains") as HTMLInputElement).value).toBe("acme.test");
    expect(currentExpiry([])).toEqual({ medium_minutes: 240, high_minutes: 1440, critical_minutes: 1440 });
  });

  it("is read-only without policy.manage", async () => {
    renderInShell(<PolicyScreen />, person("oscar", "operator", [workspaceAs("operator")]));
    await screen.findAllByTestId("policy-rule");
    for (const absent of ["policy-rule-form", "policy-rule-remove", "policy-domains-save", "policy-expiry-save"]) {
      expect(screen.queryByTestId(absent)).toBeNull();
    }
    expect(screen.getByTestId("policy-tier").tagName).toBe("SPAN");
  });
});
