//go:build cgo

package recorder

import (
	"fmt"
	"os"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"
	"gopkg.in/hraban/opus.v2"
)

// Ogg/Opus recordings (Config.Path ending in ".ogg"): the stereo timeline
// is coded as 20 ms Opus frames (libopus through hraban/opus, at the
// recording's rate, 2 channels, complexity 5) and written one Ogg page per
// frame by pion's oggwriter, which computes granule positions from each
// packet's own duration. Every page stands on its own, so a killed process
// leaves a file that plays up to its last whole page; there is no header
// to rewrite and nothing to repair but the sidecar.
type oggSink struct {
	w       *oggwriter.OggWriter
	enc     *opus.Encoder
	frame   int     // interleaved samples per 20 ms frame
	pending []int16 // samples short of a whole frame
	pkt     []byte
	seq     uint16
	ts      uint32
}

func newOggSink(f *os.File, rate, channels int) (sink, error) {
	enc, err := opus.NewEncoder(rate, channels, opus.AppAudio)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	if err := enc.SetComplexity(5); err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	w, err := oggwriter.NewWith(f, uint32(rate), uint16(channels))
	if err != nil {
		return nil, fmt.Errorf("ogg writer: %w", err)
	}
	return &oggSink{w: w, enc: enc, frame: channels * rate / 50, pkt: make([]byte, 4000)}, nil
}

func (o *oggSink) write(inter []int16) error {
	o.pending = append(o.pending, inter...)
	n := 0
	for ; len(o.pending)-n >= o.frame; n += o.frame {
		if err := o.encode(o.pending[n : n+o.frame]); err != nil {
			return err
		}
	}
	o.pending = o.pending[:copy(o.pending, o.pending[n:])]
	return nil
}

// encode codes one 20 ms stereo frame and writes its page.
func (o *oggSink) encode(frame []int16) error {
	k, err := o.enc.Encode(frame, o.pkt)
	if err != nil {
		return fmt.Errorf("opus encode: %w", err)
	}
	o.seq++
	o.ts += 960 // 20 ms at Opus's 48 kHz RTP clock (RFC 7587 §4.1)
	return o.w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: o.seq, Timestamp: o.ts}, Payload: o.pkt[:k]})
}

func (o *oggSink) checkpoint(int64) error { return nil }

// close codes the last partial frame padded with silence and ends the
// stream; the file itself is closed by the recorder.
func (o *oggSink) close() error {
	if len(o.pending) > 0 {
		frame := append(o.pending, make([]int16, o.frame-len(o.pending))...)
		o.pending = o.pending[:0]
		if err := o.encode(frame); err != nil {
			return err
		}
	}
	return nil
}
