package recorder

import (
	"encoding/binary"
	"os"
)

// sink is a recording's file format: the writer goroutine hands it the
// interleaved samples (stereo, or mono for a room) of each flush, asks it to make the file
// consistent with what was written every HeaderEvery (checkpoint), and
// closes it once at the end, before the file is closed.
type sink interface {
	write(inter []int16) error
	checkpoint(dataBytes int64) error
	close() error
}

// newSink starts format ("wav" or "ogg") of channels (1 or 2) on the
// new file f.
func newSink(format string, f *os.File, rate, channels int) (sink, error) {
	if format == "ogg" {
		return newOggSink(f, rate, channels)
	}
	if _, err := f.Write(wavHeader(rate, channels, 0)); err != nil {
		return nil, err
	}
	return &wavSink{f: f, rate: rate, channels: channels}, nil
}

// wavSink writes 16-bit little-endian PCM after a 44-byte header whose
// sizes each checkpoint rewrites.
type wavSink struct {
	f        *os.File
	rate     int
	channels int
	out      []byte
}

func (w *wavSink) write(inter []int16) error {
	out := w.out[:0]
	for _, v := range inter {
		out = binary.LittleEndian.AppendUint16(out, uint16(v))
	}
	w.out = out[:0]
	_, err := w.f.Write(out)
	return err
}

func (w *wavSink) checkpoint(dataBytes int64) error {
	_, err := w.f.WriteAt(wavHeader(w.rate, w.channels, uint32(dataBytes)), 0)
	return err
}

func (w *wavSink) close() error { return nil }
