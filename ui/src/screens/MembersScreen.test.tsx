import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { beforeEach, describe, expect, it, vi } from "vitest";

const invoke = vi.fn();
vi.mock("@tauri-apps/api/core", () => ({ invoke: (...args: unknown[]) => invoke(...args) }));

import type { MemberSummary, RoleSummary } from "../api";
import { MembersScreen } from "./MembersScreen";
import { CAPABILITIES, person, renderInShell, workspaceAs } from "../test-support";

const ROLES: RoleSummary[] = [
  { id: "viewer", name: "Viewer", builtin: true, capabilities: [...CAPABILITIES.viewer] },
  { id: "operator", name: "Operator", builtin: true, capabilities: [...CAPABILITIES.operator] },
  { id: "approver", name: "Approver", builtin: true, capabilities: [...CAPABILITIES.approver] },
  { id: "admin", name: "Admin", builtin: true, capabilities: [...CAPABILITIES.admin] },
  { id: "r-1", name: "Auditor", builtin: false, capabilities: ["workspace.read", "audit.read"] },
];

function member(username: string, role: string): MemberSummary {
  return { user_id: `id-${username}`, username, role, capabilities: [], disabled: false };
}

describe("Members & roles", () => {
  let members: MemberSummary[];

  beforeEach(() => {
    members = [member("alice", "Admin")];
    invoke.mockReset();
    invoke.mockImplementation(async (command: string, args?: { username: string; role: string }) => {
      switch (command) {
        case "list_members":
          return members;
        case "list_roles":
          return ROLES;
        case "add_member":
          if (args?.username === "ghost") {
            throw { code: "not_found", message: 'user "ghost" not found; list users with `headmaster user list`' };
          }
          members = [...members, member(args?.username ?? "", args?.role === "Auditor" ? "Auditor" : "Operator")];
          return null;
        default:
          throw { code: "test", message: `unexpected command ${command}` };
      }
    });
  });

  it("adds a member with the chosen role and lists them", async () => {
    const ws = workspaceAs("admin");
    renderInShell(<MembersScreen />, person("alice", "admin", [ws]));
    await screen.findByTestId("member-row");
    const roleSelect = screen.getByTestId("member-add-role") as HTMLSelectElement;
    await waitFor(() => expect([...roleSelect.options].map((o) => o.textContent)).toContain("Auditor"));

    fireEvent.change(screen.getByTestId("member-add-username"), { target: { value: " oscar " } });
    fireEvent.change(roleSelect, { target: { value: "operator" } });
    fireEvent.submit(screen.getByTestId("member-add-form"));

    await waitFor(() => expect(screen.getAllByTestId("member-row")).toHaveLength(2));
    expect(invoke).toHaveBeenCalledWith("add_member", { workspaceId: "ws-1", username: "oscar", role: "operator" });
    const oscar = screen.getAllByTestId("member-row").find((row) => row.dataset.username === "oscar");
    expect(oscar && within(oscar).getByTestId("member-role").textContent).toBe("Operator");
    expect((screen.getByTestId("member-add-username") as HTMLInputElement).value).toBe("");
    expect(screen.queryByTestId("members-error")).toBeNull();
  });

  it("offers custom roles by name and shows the core's refusal verbatim", async () => {
    renderInShell(<MembersScreen />, person("alice", "admin", [workspaceAs("admin")]));
    await screen.findByTestId("member-row");
    await waitFor(() => expect(screen.getAllByTestId("role-row")).toHaveLength(1));

    fireEvent.change(screen.getByTestId("member-add-username"), { target: { value: "ghost" } });
    fireEvent.change(screen.getByTestId("member-add-role"), { target: { value: "Auditor" } });
    fireEvent.submit(screen.getByTestId("member-add-form"));

    expect((await screen.findByTestId("members-error")).textContent).toBe(
      'user "ghost" not found; list users with `headmaster user list`',
    );
    expect(invoke).toHaveBeenCalledWith("add_member", { workspaceId: "ws-1", username: "ghost", role: "Auditor" });
    expect(screen.getAllByTestId("member-row")).toHaveLength(1);
    expect((screen.getByTestId("member-add-username") as HTMLInputElement).value).toBe("ghost");
  });

  it("offers a workspace Admin without org.roles the custom roles through the workspace", async () => {
    const ws = workspaceAs("admin");
    renderInShell(<MembersScreen />, person("wendy", "viewer", [ws]));
    await screen.findByTestId("member-row");
    const roleSelect = screen.getByTestId("member-add-role") as HTMLSelectElement;
    await waitFor(() => expect([...roleSelect.options].map((o) => o.textContent)).toContain("Auditor"));
    expect(invoke).toHaveBeenCalledWith("list_roles", { workspaceId: "ws-1" });
    expect(invoke).not.toHaveBeenCalledWith("list_roles");
    // Managing the organisation's roles still needs org.roles.
    expect(screen.queryByTestId("custom-roles")).toBeNull();
  });

  it("lists members to an Operator without any way to change them", async () => {
    members = [member("alice", "Admin"), member("oscar", "Operator")];
    renderInShell(<MembersScreen />, person("oscar", "operator", [workspaceAs("operator")]));
    await waitFor(() => expect(screen.getAllByTestId("member-row")).toHaveLength(2));
    for (const control of ["member-add-form", "member-role-select", "member-remove", "custom-roles"]) {
      expect(screen.queryByTestId(control)).toBeNull();
    }
    expect(invoke).not.toHaveBeenCalledWith("list_roles");
  });
});
