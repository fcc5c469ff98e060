//! `headmaster`: headless use and scripting of a Headmaster instance.
//!
//! Each subcommand parses its arguments, calls one core operation and prints the result, as
//! text on a terminal or as JSON with `--json`. Errors go to stderr (as
//! `{"error":{"code","message"}}` with `--json`) and the exit status is non-zero.

mod commands;
mod context;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use context::Context;

/// Headmaster: AI agents under human control.
#[derive(Debug, Parser)]
#[command(name = "headmaster", version, about)]
struct Cli {
    /// Data directory (default: the platform data dir, e.g. ~/.local/share/headmaster).
    #[arg(long, global = true, env = "HEADMASTER_HOME")]
    home: Option<PathBuf>,
    /// Workspace to act in (default: your first workspace).
    #[arg(long, global = true, env = "HEADMASTER_WORKSPACE")]
    workspace: Option<String>,
    /// Machine-readable output on stdout; errors as JSON on stderr.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new instance: organisation, first Admin, key protection, first workspace.
    Init(commands::init::InitArgs),
    /// Sign in and keep a session for later commands.
    Login(commands::session::LoginArgs),
    /// End the stored session.
    Logout,
    /// Show who is signed in, their roles and workspaces.
    Whoami,
    /// Workspaces: create, list, rename, delete.
    #[command(subcommand)]
    Workspace(commands::access::WorkspaceCommand),
    /// Users: add, list, disable, enable.
    #[command(subcommand)]
    User(commands::access::UserCommand),
    /// Members of the workspace: add, set-role, remove, list.
    #[command(subcommand)]
    Member(commands::access::MemberCommand),
    /// Custom roles: create, list, delete.
    #[command(subcommand)]
    Role(commands::access::RoleCommand),
    /// Keys: status, rotate, rotate-kek, retire.
    #[command(subcommand)]
    Keys(commands::keys::KeysCommand),
    /// Audit log: query, verify, export, verify-bundle, archive.
    #[command(subcommand)]
    Audit(commands::audit::AuditCommand),
    /// The shared server: join, status, sync, leave.
    #[command(subcommand)]
    Server(commands::server::ServerCommand),
    /// Data subjects (GDPR): erase, export.
    #[command(subcommand)]
    Subject(commands::audit::SubjectCommand),
    /// Tools and policy: list, enable, disable, set-tier, config, add-rule, remove-rule, domains, history.
    #[command(subcommand)]
    Tool(commands::tools::ToolCommand),
    /// Credentials: set, list, delete.
    #[command(subcommand)]
    Credential(commands::tools::CredentialCommand),
    /// Propose a tool call as yourself: runs, waits for approval, or is denied.
    Call {
        /// TOOL.ACTION, e.g. email.send.
        action: String,
        /// Arguments as a JSON object.
        #[arg(long)]
        args: String,
        /// Why (shown to reviewers).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Approval requests: list, show, approve, reject.
    #[command(subcommand)]
    Approval(commands::approvals::ApprovalCommand),
    /// Standing grants: create, list, revoke.
    #[command(subcommand)]
    Grant(commands::approvals::GrantCommand),
    /// Agents: create, list, show, delete.
    #[command(subcommand)]
    Agent(commands::runtime::AgentCommand),
    /// Runs: start, list, show, cancel, resume.
    #[command(subcommand)]
    Run(commands::runtime::RunCommand),
    /// Drafts: list, show.
    #[command(subcommand)]
    Draft(commands::runtime::DraftCommand),
    /// Workspace memory: list, set.
    #[command(subcommand)]
    Memory(commands::runtime::MemoryCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.json;
    let result = runtime.block_on(async move {
        let ctx = Context::new(cli.home, cli.workspace, cli.json);
        match cli.command {
            Command::Init(args) => commands::init::run(&ctx, args).await,
            Command::Login(args) => commands::session::login(&ctx, args).await,
            Command::Logout => commands::session::logout(&ctx).await,
            Command::Whoami => commands::session::whoami(&ctx).await,
            Command::Workspace(c) => commands::access::workspace(&ctx, c).await,
            Command::User(c) => commands::access::user(&ctx, c).await,
            Command::Member(c) => commands::access::member(&ctx, c).await,
            Command::Role(c) => commands::access::role(&ctx, c).await,
            Command::Keys(c) => commands::keys::run(&ctx, c).await,
            Command::Audit(c) => commands::audit::run(&ctx, c).await,
            Command::Server(c) => commands::server::run(&ctx, c).await,
            Command::Subject(c) => commands::audit::subject(&ctx, c).await,
            Command::Tool(c) => commands::tools::tool(&ctx, c).await,
            Command::Credential(c) => commands::tools::credential(&ctx, c).await,
            Command::Call {
                action,
                args,
                reason,
            } => commands::approvals::call(&ctx, action, args, reason).await,
            Command::Approval(c) => commands::approvals::approval(&ctx, c).await,
            Command::Grant(c) => commands::approvals::grant(&ctx, c).await,
            Command::Agent(c) => commands::runtime::agent(&ctx, c).await,
            Command::Run(c) => commands::runtime::run(&ctx, c).await,
            Command::Draft(c) => commands::runtime::draft(&ctx, c).await,
            Command::Memory(c) => commands::runtime::memory(&ctx, c).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::print_error(json, &error);
            ExitCode::FAILURE
        }
    }
}
