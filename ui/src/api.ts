// Typed calls into the desktop shell. Every command returns its DTO or rejects with
// `{ code, message }`; the UI shows `message` and branches only on `code`.
import { invoke } from "@tauri-apps/api/core";

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

export interface WorkspaceSummary {
  id: string;
  name: string;
  role: string;
}

export interface WhoAmI {
  user_id: string;
  username: string;
  org_role: string;
  org_name: string;
  session_expires_at: string;
  workspaces: WorkspaceSummary[];
}

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
};
