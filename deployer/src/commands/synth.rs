//! `synth`: write the selected stacks' templates (and the bootstrap stack's) where a person can open them. Nothing
//! is built: each asset is named by the fingerprint of its build inputs.

use crate::assets;
use crate::build::BuildTarget;
use crate::cli::SynthArgs;
use crate::error::Result;
use crate::io::Event;

use super::{Context, write_templates};

/// Runs `synth`.
pub(crate) fn run(ctx: &Context, args: &SynthArgs) -> Result<()> {
    let selection = ctx.selection(&args.selectors.stacks)?;
    let planned = assets::plan(&ctx.workspace, &selection.assets(), BuildTarget::Lambda(ctx.global.arch))?;
    let assembly = selection.synth(&assets::manifest(&planned))?;
    let dir = args.out.clone().unwrap_or_else(|| ctx.workspace.synth_dir());
    for (stack, path) in write_templates(&assembly, &dir)? {
        ctx.host.notify(Event::TemplateWritten { stack, path: path.display().to_string() });
    }
    Ok(())
}
