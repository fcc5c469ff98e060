//! `headmaster workspace|user|member|role …`.

use clap::Subcommand;
use headmaster_core::access::Role;
use headmaster_core::Error;

use crate::context::{read_secret, Context};
use crate::output::print_json;

/// `workspace` subcommands.
#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace (you become its Admin).
    Create {
        /// Name.
        name: String,
    },
    /// List the workspaces you are a member of.
    List,
    /// Rename a workspace.
    Rename {
        /// Current name.
        name: String,
        /// New name.
        new_name: String,
    },
    /// Delete a workspace: its keys are destroyed, then its data.
    Delete {
        /// Name.
        name: String,
        /// Confirm the deletion (required; it cannot be undone).
        #[arg(long)]
        yes: bool,
    },
}

/// `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password comes from the named environment variable or a prompt.
    Add {
        /// Username.
        username: String,
        /// Environment variable holding the new user's password.
        #[arg(long)]
        password_env: Option<String>,
        /// Organisation role (viewer, operator, approver, admin).
        #[arg(long, default_value = "viewer")]
        org_role: String,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable {
        /// Username.
        username: String,
    },
    /// Re-enable a user (also lifts a lockout).
    Enable {
        /// Username.
        username: String,
    },
}

/// `member` subcommands (in `--workspace`).
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Add a user to the workspace with a role.
    Add {
        /// Username.
        username: String,
        /// Role: viewer, operator, approver, admin, or a custom role's name.
        #[arg(long)]
        role: String,
    },
    /// Change a member's role.
    SetRole {
        /// Username.
        username: String,
        /// New role.
        role: String,
    },
    /// Remove a member.
    Remove {
        /// Username.
        username: String,
    },
    /// List members.
    List,
}

/// `role` subcommands.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Define a custom role as a set of capabilities.
    Create {
        /// Name.
        name: String,
        /// Comma-separated capability names (see `headmaster role list`).
        #[arg(long, value_delimiter = ',')]
        capabilities: Vec<String>,
    },
    /// List built-in and custom roles with their capabilities.
    List,
    /// Delete an unused custom role.
    Delete {
        /// Name.
        name: String,
    },
}

/// Runs a `workspace` subcommand.
pub async fn workspace(ctx: &Context, command: WorkspaceCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    match command {
        WorkspaceCommand::Create { name } => {
            let created = instance.create_workspace(&session, &name).await?;
            ctx.done(
                &created,
                &format!("Created workspace {} (you are its Admin).", created.name),
            )
        }
        WorkspaceCommand::List => {
            let list = instance.list_workspaces(&session).await?;
            if ctx.json {
                return print_json(&list);
            }
            for w in list {
                println!("{:<28} {:<10} {}", w.name, w.role, w.id);
            }
            Ok(())
        }
        WorkspaceCommand::Rename { name, new_name } => {
            let w = instance.resolve_workspace(&session, Some(&name)).await?;
            instance
                .rename_workspace(&session, w.id.parse()?, &new_name)
                .await?;
            ctx.done(
                &serde_json::json!({ "id": w.id, "name": new_name }),
                &format!("Renamed {name} to {new_name}."),
            )
        }
        WorkspaceCommand::Delete { name, yes } => {
            if !yes {
                anyhow::bail!(
                    "deleting a workspace destroys its keys and data; repeat with --yes to confirm"
                );
            }
            let w = instance.resolve_workspace(&session, Some(&name)).await?;
            instance.delete_workspace(&session, w.id.parse()?).await?;
            ctx.done(
                &serde_json::json!({ "deleted": w.id }),
                &format!("Deleted workspace {name}."),
            )
        }
    }
}

/// Runs a `user` subcommand.
pub async fn user(ctx: &Context, command: UserCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    match command {
        UserCommand::Add {
            username,
            password_env,
            org_role,
        } => {
            let role = parse_builtin(&org_role)?;
            let password = match password_env {
                Some(var) => read_secret(&var, "")?,
                None => read_secret(
                    "HEADMASTER_NEW_PASSWORD",
                    &format!("Password for {username}: "),
                )?,
            };
            let user = instance
                .add_user(&session, &username, &password, role)
                .await?;
            ctx.done(
                &user,
                &format!("Added user {} ({}).", user.username, user.org_role),
            )
        }
        UserCommand::List => {
            let users = instance.list_users(&session).await?;
            if ctx.json {
                return print_json(&users);
            }
            for u in users {
                let state = if u.disabled {
                    "disabled"
                } else if u.locked {
                    "locked"
                } else {
                    "active"
                };
                println!("{:<24} {:<10} {}", u.username, u.org_role, state);
            }
            Ok(())
        }
        UserCommand::Disable { username } => {
            instance.disable_user(&session, &username).await?;
            ctx.done(
                &serde_json::json!({ "disabled": username }),
                &format!("Disabled {username}."),
            )
        }
        UserCommand::Enable { username } => {
            instance.enable_user(&session, &username).await?;
            ctx.done(
                &serde_json::json!({ "enabled": username }),
                &format!("Enabled {username}."),
            )
        }
    }
}

/// Runs a `member` subcommand.
pub async fn member(ctx: &Context, command: MemberCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    let w = instance
        .resolve_workspace(&session, ctx.workspace.as_deref())
        .await?;
    let id = w.id.parse()?;
    match command {
        MemberCommand::Add { username, role } => {
            instance.add_member(&session, id, &username, &role).await?;
            ctx.done(
                &serde_json::json!({ "workspace": w.name, "user": username, "role": role }),
                &format!("Added {username} to {} as {role}.", w.name),
            )
        }
        MemberCommand::SetRole { username, role } => {
            instance
                .set_member_role(&session, id, &username, &role)
                .await?;
            ctx.done(
                &serde_json::json!({ "workspace": w.name, "user": username, "role": role }),
                &format!("{username} is now {role} in {}.", w.name),
            )
        }
        MemberCommand::Remove { username } => {
            instance.remove_member(&session, id, &username).await?;
            ctx.done(
                &serde_json::json!({ "workspace": w.name, "removed": username }),
                &format!("Removed {username} from {}.", w.name),
            )
        }
        MemberCommand::List => {
            let members = instance.list_members(&session, id).await?;
            if ctx.json {
                return print_json(&members);
            }
            for m in members {
                println!("{:<24} {}", m.username, m.role);
            }
            Ok(())
        }
    }
}

/// Runs a `role` subcommand.
pub async fn role(ctx: &Context, command: RoleCommand) -> anyhow::Result<()> {
    let (instance, session) = ctx.signed_in().await?;
    match command {
        RoleCommand::Create { name, capabilities } => {
            let role = instance.create_role(&session, &name, &capabilities).await?;
            ctx.done(
                &role,
                &format!(
                    "Created role {} ({}).",
                    role.name,
                    role.capabilities.join(", ")
                ),
            )
        }
        RoleCommand::List => {
            let roles = instance.list_roles(&session).await?;
            if ctx.json {
                return print_json(&roles);
            }
            for r in roles {
                println!("{:<16} {}", r.name, r.capabilities.join(","));
            }
            Ok(())
        }
        RoleCommand::Delete { name } => {
            instance.delete_role(&session, &name).await?;
            ctx.done(
                &serde_json::json!({ "deleted": name }),
                &format!("Deleted role {name}."),
            )
        }
    }
}

fn parse_builtin(name: &str) -> anyhow::Result<Role> {
    Role::parse(name).ok_or_else(|| {
        Error::InvalidInput(format!(
            "unknown organisation role {name:?}; use viewer, operator, approver or admin"
        ))
        .into()
    })
}
