import { describe, expect, it } from "vitest";
import { visibleScreens } from "./nav";
import { person, workspaceAs } from "./test-support";

function ids(...args: Parameters<typeof visibleScreens>) {
  return visibleScreens(...args).map((i) => i.id);
}

const ADMIN_SCREENS = [
  "home",
  "runs",
  "approvals",
  "tools",
  "policy",
  "credentials",
  "audit",
  "workspaces",
  "members",
  "users",
  "keys",
  "server",
];
const READER_SCREENS = ["home", "runs", "approvals", "policy", "audit", "members"];

describe("visibleScreens", () => {
  it("offers an Admin every screen", () => {
    const ws = workspaceAs("admin");
    expect(ids(person("alice", "admin", [ws]), ws)).toEqual(ADMIN_SCREENS);
  });

  it("offers an Operator the workspace's runs, inbox, policy, audit and members, nothing administrative", () => {
    const ws = workspaceAs("operator");
    expect(ids(person("oscar", "operator", [ws]), ws)).toEqual(READER_SCREENS);
  });

  it("offers nothing but home to someone without a workspace and without org capabilities", () => {
    expect(ids(person("vera", "viewer", []), null)).toEqual(["home"]);
  });

  it("follows the current workspace: tools, credentials, keys and settings where the role is Admin only", () => {
    const mine = workspaceAs("admin", "Mine", "ws-a");
    const theirs = workspaceAs("viewer", "Theirs", "ws-b");
    const me = person("olga", "viewer", [mine, theirs]);
    // Users and the shared server are the organisation's, not the workspace's.
    expect(ids(me, mine)).toEqual(ADMIN_SCREENS.filter((s) => s !== "users" && s !== "server"));
    expect(ids(me, theirs)).toEqual(READER_SCREENS);
  });

  it("offers Users to org.users, Keys and the organisation's audit to org.security, and the Server to settings.manage, even without a workspace", () => {
    expect(ids(person("root", "admin", []), null)).toEqual(["home", "audit", "workspaces", "members", "users", "keys", "server"]);
  });

  it("hides the audit from a custom role that reads the workspace but not its audit log", () => {
    const ws = { id: "ws-1", name: "Acme Corp", role: "Reader", capabilities: ["workspace.read"] };
    expect(ids(person("rita", "viewer", [ws]), ws)).toEqual(["home", "runs", "approvals", "policy", "members"]);
  });
});
