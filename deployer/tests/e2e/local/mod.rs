//! The local target (`--local`): function processes under our Runtime API, and the whole seed stack run through
//! the real AWS CLI against the local endpoint with AWS's durable engine.

mod runtime;
mod stack;
