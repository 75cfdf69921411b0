//! `synth`: write the selected stacks' templates (and the bootstrap stack's) where a person can open them. Nothing
//! is built: each asset is named by the fingerprint of its build inputs.

use crate::assets;
use crate::build::BuildTarget;
use crate::cli::SynthArgs;
use crate::error::Result;
use crate::io::Event;

use super::Context;
use crate::app::write_templates;

/// Runs `synth`.
pub(crate) fn run(ctx: &Context, args: &SynthArgs) -> Result<()> {
    let selection = ctx.selection(&args.selectors.stacks)?;
    let planned = assets::plan(&ctx.run.workspace, &selection.assets(), BuildTarget::Lambda(ctx.global.arch))?;
    // Versions are named after the zips' bytes where they are packaged here, as `up` names them.
    let codes = assets::local_codes(&ctx.run.workspace, &planned);
    let mut assembly = selection.synth_app(&assets::manifest_with_codes(&planned, &codes))?;
    // The bootstrap stack is written beside the app's when it can be derived; when it cannot (a resource type its
    // default execution policy does not cover), the app's templates are still worth having, and `up` stops there.
    match selection.bootstrap(&selection.default_bootstrap()) {
        Ok(bootstrap) => assembly.stacks.insert(0, bootstrap),
        Err(e) => ctx.run.host.notify(Event::Warning { message: format!("the bootstrap stack is not written: {e}") }),
    }
    let dir = args.out.clone().unwrap_or_else(|| ctx.run.workspace.synth_dir());
    for (stack, path) in write_templates(&assembly, &dir)? {
        ctx.run.host.notify(Event::TemplateWritten { stack, path: path.display().to_string() });
    }
    Ok(())
}
