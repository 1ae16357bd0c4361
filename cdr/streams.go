package cdr

import "github.com/switchboard/switchboard/rtcpstats"

// Record.Fax values: a T.38 fax relayed as UDPTL; a fax Switchboard
// gatewayed between T.38 on one leg and G.711 fax tones on the other (the
// other leg refused T.38, b2bua/fax_gateway.go); a fax that went on in
// G.711 through the audio path after the other leg refused T.38 and no
// gateway could be built.
const (
	FaxT38Relayed      = "t38-relayed"
	FaxT38Gatewayed    = "t38-gatewayed"
	FaxG711Passthrough = "g711-passthrough"
)

// StreamRecord is one stream of a call beside its audio.
type StreamRecord struct {
	// Index is the stream's m-line position, Media its type (video) and
	// Mode relayed or refused.
	Index int    `json:"index"`
	Media string `json:"media"`
	Mode  string `json:"mode"`
	// CodecA and CodecB are the codec each leg negotiated.
	CodecA string `json:"codec_a,omitempty"`
	CodecB string `json:"codec_b,omitempty"`
	// Packets and bytes received from each leg, and the mean bit rate
	// (kbit/s over the call's duration).
	AToBPackets uint64  `json:"a_to_b_packets"`
	AToBBytes   uint64  `json:"a_to_b_bytes"`
	BToAPackets uint64  `json:"b_to_a_packets"`
	BToABytes   uint64  `json:"b_to_a_bytes"`
	AToBKbps    float64 `json:"a_to_b_kbps"`
	BToAKbps    float64 `json:"b_to_a_kbps"`
	// FeedbackToA and FeedbackToB count the RTCP feedback messages (PLI,
	// FIR, NACK, REMB) re-issued toward each leg's sender.
	FeedbackToA uint64 `json:"feedback_to_a,omitempty"`
	FeedbackToB uint64 `json:"feedback_to_b,omitempty"`
	// Quality is the stream's RTCP quality per leg (loss, jitter).
	Quality *rtcpstats.CallQuality `json:"quality,omitempty"`
}
