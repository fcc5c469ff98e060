// Typed calls into the desktop shell. Every command returns its DTO or rejects with
// `{ code, message }`; the UI shows `message` and branches only on `code`.
import { invoke } from "@tauri-apps/api/core";
export type { KeysStatus, MaintenanceOutcome, MemberSummary, RoleSummary, RotationReport, ScopeStatus, UserSummary, VersionStatus, WhoAmI, WorkspaceSummary } from "./api/generated";
import type { KeysStatus, MaintenanceOutcome, MemberSummary, RoleSummary, RotationReport, UserSummary, WhoAmI, WorkspaceSummary } from "./api/generated";

export interface ApiError {
  code: string;
  message: string;
}

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === "object" &&
    value !== null &&
    "code" in value &&
    "message" in value &&
    typeof (value as ApiError).message === "string"
  );
}

/** Codes after which the shell has forgotten the session: the UI goes back to sign-in. */
const SESSION_OVER = new Set(["session_expired", "account_disabled", "not_signed_in"]);

export function isSessionOver(value: unknown): boolean {
  return isApiError(value) && SESSION_OVER.has(value.code);
}

export function errorMessage(value: unknown): string {
  if (isApiError(value)) return value.message;
  if (value instanceof Error) return value.message;
  return String(value);
}

export type Protection = "keychain" | "passphrase";

export interface AppStatus {
  state: "setup" | "locked" | "signed_out" | "signed_in";
  protection: Protection | null;
  org_name: string | null;
  home: string;
}

export type OrgRole = "viewer" | "operator" | "approver" | "admin";

export interface SetupRequest {
  org_name: string;
  username: string;
  password: string;
  protection: Protection;
  passphrase: string | null;
}

export const api = {
  status: () => invoke<AppStatus>("app_status"),
  setup: (request: SetupRequest) => invoke<AppStatus>("setup", { request }),
  unlock: (passphrase: string) => invoke<AppStatus>("unlock", { passphrase }),
  signIn: (username: string, password: string) => invoke<WhoAmI>("sign_in", { username, password }),
  signOut: () => invoke<void>("sign_out"),
  whoami: () => invoke<WhoAmI>("whoami"),

  createWorkspace: (name: string) => invoke<WorkspaceSummary>("create_workspace", { name }),
  renameWorkspace: (workspaceId: string, name: string) => invoke<void>("rename_workspace", { workspaceId, name }),
  deleteWorkspace: (workspaceId: string) => invoke<void>("delete_workspace", { workspaceId }),

  listMembers: (workspaceId: string) => invoke<MemberSummary[]>("list_members", { workspaceId }),
  addMember: (workspaceId: string, username: string, role: string) =>
    invoke<void>("add_member", { workspaceId, username, role }),
  setMemberRole: (workspaceId: string, username: string, role: string) =>
    invoke<void>("set_member_role", { workspaceId, username, role }),
  removeMember: (workspaceId: string, username: string) => invoke<void>("remove_member", { workspaceId, username }),

  listRoles: () => invoke<RoleSummary[]>("list_roles"),
  /** The roles a member manager of `workspaceId` may pick from (no `org.roles` needed). */
  assignableRoles: (workspaceId: string) => invoke<RoleSummary[]>("list_roles", { workspaceId }),
  createRole: (name: string, capabilities: string[]) => invoke<RoleSummary>("create_role", { name, capabilities }),
  deleteRole: (name: string) => invoke<void>("delete_role", { name }),

  listUsers: () => invoke<UserSummary[]>("list_users"),
  addUser: (username: string, password: string, orgRole: OrgRole) =>
    invoke<UserSummary>("add_user", { username, password, orgRole }),
  disableUser: (username: string) => invoke<void>("disable_user", { username }),
  enableUser: (username: string) => invoke<void>("enable_user", { username }),

  /** The organisation and every workspace you manage keys of (`null`), or one workspace. */
  keysStatus: (workspaceId: string | null) => invoke<KeysStatus>("keys_status", { workspaceId }),
  rotateKeys: (scope: string) => invoke<RotationReport>("rotate_keys", { scope }),
  retireUnusedKeys: (scope: string) => invoke<number[]>("retire_unused_keys", { scope }),
  rotateKek: (newPassphrase: string | null) => invoke<number>("rotate_kek", { newPassphrase }),
  maintainKeys: () => invoke<MaintenanceOutcome>("maintain_keys"),
};
