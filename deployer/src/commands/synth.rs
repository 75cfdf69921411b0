//! `synth`: build the functions, then write every stack's template where a person can open it.

use crate::build::BuildTarget;
use crate::cli::SynthArgs;
use crate::error::Result;
use crate::io::Event;

use super::{Context, prepare, write_templates};

/// Runs `synth`.
pub fn run(ctx: &Context, args: &SynthArgs) -> Result<()> {
    let prepared = prepare(ctx, BuildTarget::Lambda(ctx.global.arch))?;
    let dir = args.out.clone().unwrap_or_else(|| ctx.workspace.synth_dir());
    for (stack, path) in write_templates(&prepared.assembly, &dir)? {
        ctx.host.notify(Event::TemplateWritten { stack, path: path.display().to_string() });
    }
    Ok(())
}
