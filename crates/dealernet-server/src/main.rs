//! `dealernet`: the DealerNet server and its administration commands.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use dealernet_api::{Application, LogFormat, Settings};
use secrecy::SecretString;
use tracing_subscriber::EnvFilter;

mod demo;

#[derive(Parser)]
#[command(
    name = "dealernet",
    version,
    about = "DealerNet: run an operator's dealer network"
)]
struct Cli {
    /// A TOML config file (default: `dealernet.toml` if it exists). `DEALERNET_*` environment
    /// variables override it.
    #[arg(long, env = "DEALERNET_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Migrate the database and serve the API and the web app (the default).
    Serve {
        /// Create the demo data first (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create an administrator at the operator root (or reset the password of an existing one).
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// The password; otherwise `DEALERNET_ADMIN_PASSWORD`, otherwise read from standard input.
        #[arg(long, env = "DEALERNET_ADMIN_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Load a realistic demo: regions, distributors, dealers, sub-dealers, points of sale and a
    /// user for every built-in role (passwords in README.md).
    SeedDemo,
    /// Print the OpenAPI document.
    Openapi,
}

fn load_settings(path: Option<&PathBuf>) -> Result<Settings> {
    let mut builder = config::Config::builder();
    match path {
        Some(p) => builder = builder.add_source(config::File::from(p.as_path()).required(true)),
        None => builder = builder.add_source(config::File::with_name("dealernet").required(false)),
    }
    builder = builder.add_source(
        config::Environment::with_prefix("DEALERNET")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("cors_origins")
            .ignore_empty(true),
    );
    let mut settings: Settings = builder
        .build()
        .context("reading configuration")?
        .try_deserialize()
        .context("configuration is not valid")?;
    if settings
        .jwt_secret
        .as_ref()
        .is_some_and(|s| secrecy::ExposeSecret::expose_secret(s).is_empty())
    {
        settings.jwt_secret = None::<SecretString>;
    }
    Ok(settings)
}

fn init_tracing(settings: &Settings) {
    let filter =
        EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(&settings.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match settings.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

fn read_password(arg: Option<String>) -> Result<String> {
    if let Some(p) = arg {
        return Ok(p);
    }
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("reading the password from standard input")?;
    let p = s.trim_end_matches(['\r', '\n']).to_string();
    if p.is_empty() {
        bail!("no password given: use --password, DEALERNET_ADMIN_PASSWORD or standard input");
    }
    Ok(p)
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let settings = load_settings(cli.config.as_ref())?;
    let command = cli.command.unwrap_or(Command::Serve { demo: false });
    if matches!(command, Command::Openapi) {
        print!("{}", dealernet_api::openapi::document_json());
        return Ok(());
    }
    init_tracing(&settings);
    match command {
        Command::Serve { demo } => {
            if demo {
                let conn = dealernet_api::startup::connect_and_migrate(&settings).await?;
                demo::seed(&conn).await?;
            }
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "DealerNet is listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            dealernet_api::startup::connect_and_migrate(&settings).await?;
            println!("migrations applied");
        }
        Command::CreateAdmin {
            email,
            password,
            name,
        } => {
            let password = read_password(password)?;
            let input = dealernet_domain::user::ResetPassword {
                password: password.clone(),
            };
            if let Err(e) = validator::Validate::validate(&input) {
                let errs = dealernet_domain::validation::field_errors(&e);
                let msg: Vec<String> = errs
                    .iter()
                    .map(|e| format!("password {}", e.message))
                    .collect();
                bail!("{}", msg.join("; "));
            }
            let conn = dealernet_api::startup::connect_and_migrate(&settings).await?;
            let id =
                dealernet_data::bootstrap::create_admin(&conn, &email, &name, &password).await?;
            println!("administrator {email} ready (user id {id})");
        }
        Command::SeedDemo => {
            let conn = dealernet_api::startup::connect_and_migrate(&settings).await?;
            demo::seed(&conn).await?;
            println!("demo data ready; sign in as admin@demo.dealernet.example (see README.md)");
        }
        Command::Openapi => {}
    }
    Ok(())
}
