//! The `runway` binary: parses arguments and hands off to the library.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// runway: run AWS container web services from Kubernetes.
#[derive(Parser, Debug)]
#[command(name = "runway", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print every CRD as YAML, or write one file per CRD into a directory.
    Crds {
        /// Write `<name>.yaml` files into this directory instead of printing to stdout.
        #[arg(long)]
        out_dir: Option<PathBuf>,
    },
    /// Serve the AWS simulator (ECS Express Mode and App Runner) over the real wire protocols.
    SimulateAws(runway::sim::SimArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crds { out_dir } => write_crds(out_dir),
        Command::SimulateAws(args) => runway::sim::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("runway: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn write_crds(out_dir: Option<PathBuf>) -> runway::Result<()> {
    let Some(dir) = out_dir else {
        print!("{}", runway::api::all_crds_yaml()?);
        return Ok(());
    };
    for crd in runway::api::crds() {
        let path = dir.join(runway::api::crd_file_name(&crd));
        std::fs::write(&path, runway::api::crd_yaml(&crd)?).map_err(|source| runway::Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })?;
    }
    Ok(())
}
