package codecs

// Packetizer accumulates PCM of any chunk size and encodes it into payloads
// of exactly one packet (Encoder.FrameSamples samples) each. It is the
// encode side of a stream: one per stream, not safe for concurrent use.
type Packetizer struct {
	enc Encoder
	buf []int16 // partial frame
	n   int     // samples in buf
	dst []byte  // payload buffer, MaxPayloadSize
}

// NewPacketizer returns a Packetizer feeding enc.
func NewPacketizer(enc Encoder) *Packetizer {
	return &Packetizer{
		enc: enc,
		buf: make([]int16, enc.FrameSamples()),
		dst: make([]byte, enc.MaxPayloadSize()),
	}
}

// Write consumes all of pcm. For every packet completed it encodes the frame
// and calls emit with the payload, which is valid only during the call.
// Samples short of a packet stay buffered for the next Write. It stops at
// the first error from the encoder or from emit.
func (p *Packetizer) Write(pcm []int16, emit func(payload []byte) error) error {
	frame := len(p.buf)
	for len(pcm) > 0 {
		var in []int16
		if p.n == 0 && len(pcm) >= frame {
			in, pcm = pcm[:frame], pcm[frame:] // whole frame: encode in place
		} else {
			c := copy(p.buf[p.n:], pcm)
			p.n += c
			pcm = pcm[c:]
			if p.n < frame {
				return nil
			}
			in, p.n = p.buf, 0
		}
		n, err := p.enc.Encode(in, p.dst)
		if err != nil {
			return err
		}
		if err := emit(p.dst[:n]); err != nil {
			return err
		}
	}
	return nil
}

// Buffered returns the number of samples waiting for a complete packet.
func (p *Packetizer) Buffered() int { return p.n }

// Reset drops buffered samples.
func (p *Packetizer) Reset() { p.n = 0 }
