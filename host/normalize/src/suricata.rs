//! PLACEHOLDER: being written; every record is an error until then.

use crate::{DecodeContext, Decoder, Format, Output, RecordPos};

pub(crate) fn sniff(_sample: &[u8]) -> bool {
    false
}

pub struct SuricataDecoder;

impl SuricataDecoder {
    pub fn new(_ctx: &DecodeContext) -> Self {
        SuricataDecoder
    }
}

impl Decoder for SuricataDecoder {
    fn format(&self) -> Format {
        Format::Suricata
    }
    fn push(&mut self, _line: &[u8], pos: RecordPos, out: &mut Output) {
        out.error(pos, "unsupported", "decoder not written yet");
    }
    fn finish(&mut self, _out: &mut Output) {}
}
