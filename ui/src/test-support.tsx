// Shared fixtures for component tests: people with the built-in roles' capabilities, a
// renderer that puts a screen inside the signed-in shell's context, and a stand-in for events.
import { act, render } from "@testing-library/react";
import type { ReactElement } from "react";
import { vi } from "vitest";
import { errorMessage, type WhoAmI, type WorkspaceSummary } from "./api";
import { ROLE_CAPABILITIES } from "./api/generated";
import { ShellContext, type ShellContextValue } from "./shell-context";

/** The built-in roles' capabilities, as the core's matrix says (generated). */
export const CAPABILITIES = ROLE_CAPABILITIES;
export type RoleName = keyof typeof CAPABILITIES;

const TITLES: Record<RoleName, string> = { viewer: "Viewer", operator: "Operator", approver: "Approver", admin: "Admin" };

export function workspaceAs(role: RoleName, name = "Acme Corp", id = "ws-1"): WorkspaceSummary {
  return { id, name, role: TITLES[role], capabilities: [...CAPABILITIES[role]] };
}

export function person(username: string, orgRole: RoleName, workspaces: WorkspaceSummary[]): WhoAmI {
  return {
    user_id: `id-${username}`,
    username,
    org_role: TITLES[orgRole],
    org_capabilities: [...CAPABILITIES[orgRole]],
    org_name: "Acme Corp",
    session_expires_at: "2030-01-01T00:00:00.000Z",
    workspaces,
  };
}

export function renderInShell(ui: ReactElement, me: WhoAmI, workspace: WorkspaceSummary | null = me.workspaces[0] ?? null) {
  const value: ShellContextValue = {
    me,
    workspace,
    refresh: vi.fn(async () => undefined),
    describeError: (e: unknown) => errorMessage(e),
  };
  return { ...render(<ShellContext.Provider value={value}>{ui}</ShellContext.Provider>), context: value };
}

type EventHandler = (event: { payload: unknown }) => void;

/** A stand-in for the shell's events: what `listen` registers, `emit` delivers. */
export function eventBus() {
  const handlers = new Map<string, Set<EventHandler>>();
  return {
    listen: async (name: string, handler: EventHandler) => {
      const set = handlers.get(name) ?? new Set<EventHandler>();
      set.add(handler);
      handlers.set(name, set);
      return () => {
        set.delete(handler);
      };
    },
    emit: (name: string, payload: unknown) => {
      act(() => {
        for (const handler of [...(handlers.get(name) ?? [])]) handler({ payload });
      });
    },
    listeners: (name: string) => handlers.get(name)?.size ?? 0,
  };
}
