//! PLACEHOLDER: being written; every record is an error until then.

use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

pub(crate) fn sniff(_sample: &[u8]) -> bool {
    false
}

pub struct ZeekDecoder;

impl ZeekDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        ZeekDecoder
    }
}

impl Decoder for ZeekDecoder {
    fn format(&self) -> Format {
        Format::Zeek
    }
    fn push(&mut self, _line: &[u8], pos: RecordPos, out: &mut Output) {
        out.error(pos, "unsupported", "decoder not written yet");
    }
    fn finish(&mut self, _out: &mut Output) {}
}
