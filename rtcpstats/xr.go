package rtcpstats

import (
	"math"
	"time"

	"github.com/pion/rtcp"
)

// RTCP XR (RFC 3611). github.com/pion/rtcp implements the wire format of
// all four blocks used here (Receiver Reference Time BT=4, DLRR BT=5,
// Statistics Summary BT=6, VoIP Metrics BT=7), so this file only converts
// between those blocks and plain units; nothing is hand-encoded.

// XRUnavailable is the value RFC 3611 §4.7 puts in the VoIP Metrics
// signal level, noise level, RERL, R factor and MOS fields when the metric
// is not available.
const XRUnavailable = 127

// PLCType is the packet loss concealment field of the VoIP Metrics RX
// config byte (RFC 3611 §4.7.6).
type PLCType uint8

// PLC values of RFC 3611 §4.7.6.
const (
	PLCUnspecified PLCType = 0
	PLCDisabled    PLCType = 1
	PLCEnhanced    PLCType = 2
	PLCStandard    PLCType = 3
)

// JBType is the jitter buffer adaptive field of the VoIP Metrics RX config
// byte (RFC 3611 §4.7.6).
type JBType uint8

// JBA values of RFC 3611 §4.7.6.
const (
	JBUnknown     JBType = 0
	JBNonAdaptive JBType = 2
	JBAdaptive    JBType = 3
)

// VoIPMetrics is the content of an RFC 3611 §4.7 VoIP Metrics report block
// in plain units. Rates and densities are fractions in [0, 255/256] as the
// 8-bit fields allow; durations are whole milliseconds on the wire.
type VoIPMetrics struct {
	// SSRC is the source the block reports on.
	SSRC uint32
	// LossRate is the fraction of packets lost (§4.7.1).
	LossRate float64
	// DiscardRate is the fraction of packets discarded (§4.7.1).
	DiscardRate float64
	// BurstDensity is the fraction lost or discarded within bursts (§4.7.2).
	BurstDensity float64
	// GapDensity is the fraction lost or discarded within gaps (§4.7.2).
	GapDensity float64
	// BurstDuration is the mean burst duration (§4.7.2).
	BurstDuration time.Duration
	// GapDuration is the mean gap duration (§4.7.2).
	GapDuration time.Duration
	// RoundTripDelay is the most recent RTT (§4.7.3); 0 if unknown.
	RoundTripDelay time.Duration
	// EndSystemDelay is the reporting end's own delay (§4.7.3); 0 if unknown.
	EndSystemDelay time.Duration
	// SignalLevel is the speech level in dBm0 (§4.7.4), XRUnavailable if unknown.
	SignalLevel int8
	// NoiseLevel is the silence-period noise level in dBm0 (§4.7.4),
	// XRUnavailable if unknown.
	NoiseLevel int8
	// RERL is the residual echo return loss in dB (§4.7.4), XRUnavailable
	// if unknown.
	RERL uint8
	// Gmin is the burst gap threshold used (§4.7.2).
	Gmin uint8
	// RFactor is the conversational R factor 0..100 (§4.7.5), XRUnavailable
	// if unknown.
	RFactor uint8
	// ExtRFactor is the external-network R factor (§4.7.5), XRUnavailable
	// if unknown.
	ExtRFactor uint8
	// MOSLQ is the listening-quality MOS 1..5 (§4.7.5), 0 if unknown.
	MOSLQ float64
	// MOSCQ is the conversational-quality MOS 1..5 (§4.7.5), 0 if unknown.
	MOSCQ float64
	// PLC is the concealment in use (§4.7.6).
	PLC PLCType
	// JBA tells whether the jitter buffer adapts (§4.7.6).
	JBA JBType
	// JBRate is the jitter buffer adjustment rate, 0..15 (§4.7.6).
	JBRate uint8
	// JBNominal, JBMaximum and JBAbsMax describe the jitter buffer delay
	// (§4.7.7).
	JBNominal, JBMaximum, JBAbsMax time.Duration
}

// Block encodes v as a pion VoIP Metrics report block, rounding to the
// fields' resolution and saturating at their ranges.
func (v VoIPMetrics) Block() *rtcp.VoIPMetricsReportBlock {
	return &rtcp.VoIPMetricsReportBlock{
		SSRC:           v.SSRC,
		LossRate:       rate256(v.LossRate),
		DiscardRate:    rate256(v.DiscardRate),
		BurstDensity:   rate256(v.BurstDensity),
		GapDensity:     rate256(v.GapDensity),
		BurstDuration:  ms16(v.BurstDuration),
		GapDuration:    ms16(v.GapDuration),
		RoundTripDelay: ms16(v.RoundTripDelay),
		EndSystemDelay: ms16(v.EndSystemDelay),
		SignalLevel:    uint8(v.SignalLevel),
		NoiseLevel:     uint8(v.NoiseLevel),
		RERL:           v.RERL,
		Gmin:           v.Gmin,
		RFactor:        v.RFactor,
		ExtRFactor:     v.ExtRFactor,
		MOSLQ:          mos10(v.MOSLQ),
		MOSCQ:          mos10(v.MOSCQ),
		RXConfig:       uint8(v.PLC&3)<<6 | uint8(v.JBA&3)<<4 | v.JBRate&0x0F,
		JBNominal:      ms16(v.JBNominal),
		JBMaximum:      ms16(v.JBMaximum),
		JBAbsMax:       ms16(v.JBAbsMax),
	}
}

// VoIPMetricsFromBlock decodes a pion VoIP Metrics report block.
func VoIPMetricsFromBlock(b *rtcp.VoIPMetricsReportBlock) VoIPMetrics {
	return VoIPMetrics{
		SSRC:           b.SSRC,
		LossRate:       float64(b.LossRate) / 256,
		DiscardRate:    float64(b.DiscardRate) / 256,
		BurstDensity:   float64(b.BurstDensity) / 256,
		GapDensity:     float64(b.GapDensity) / 256,
		BurstDuration:  time.Duration(b.BurstDuration) * time.Millisecond,
		GapDuration:    time.Duration(b.GapDuration) * time.Millisecond,
		RoundTripDelay: time.Duration(b.RoundTripDelay) * time.Millisecond,
		EndSystemDelay: time.Duration(b.EndSystemDelay) * time.Millisecond,
		SignalLevel:    int8(b.SignalLevel),
		NoiseLevel:     int8(b.NoiseLevel),
		RERL:           b.RERL,
		Gmin:           b.Gmin,
		RFactor:        b.RFactor,
		ExtRFactor:     b.ExtRFactor,
		MOSLQ:          mosFrom10(b.MOSLQ),
		MOSCQ:          mosFrom10(b.MOSCQ),
		PLC:            PLCType(b.RXConfig >> 6),
		JBA:            JBType(b.RXConfig >> 4 & 3),
		JBRate:         b.RXConfig & 0x0F,
		JBNominal:      time.Duration(b.JBNominal) * time.Millisecond,
		JBMaximum:      time.Duration(b.JBMaximum) * time.Millisecond,
		JBAbsMax:       time.Duration(b.JBAbsMax) * time.Millisecond,
	}
}

// rate256 encodes a fraction as RFC 3611 §4.7.1 does: 256·f, integer
// part, at most 255.
func rate256(f float64) uint8 {
	if !(f > 0) {
		return 0
	}
	return uint8(min(math.Floor(f*256), 255))
}

func ms16(d time.Duration) uint16 {
	if d <= 0 {
		return 0
	}
	return uint16(min(int64(d/time.Millisecond), 0xFFFF))
}

// mos10 encodes a MOS as RFC 3611 §4.7.5: MOS·10 in 10..50, 127 when
// unavailable (0).
func mos10(m float64) uint8 {
	if !(m > 0) {
		return XRUnavailable
	}
	return uint8(min(max(math.Round(m*10), 10), 50))
}

func mosFrom10(v uint8) float64 {
	if v < 10 || v > 50 {
		return 0
	}
	return float64(v) / 10
}

// rFactorField encodes R as the 0..100 R factor field of RFC 3611 §4.7.5.
func rFactorField(r float64) uint8 {
	return uint8(min(max(math.Round(r), 0), 100))
}

// RRTRBlock returns a Receiver Reference Time block (RFC 3611 §4.4) for a
// report sent at now.
func RRTRBlock(now time.Time) *rtcp.ReceiverReferenceTimeReportBlock {
	return &rtcp.ReceiverReferenceTimeReportBlock{NTPTimestamp: NTPTime(now)}
}

// DLRRFor returns the DLRR sub-block (RFC 3611 §4.5) answering an RRTR
// with NTP time rrtrNTP from ssrc that arrived at arrival, for a report sent
// at now.
func DLRRFor(ssrc uint32, rrtrNTP uint64, arrival, now time.Time) rtcp.DLRRReport {
	return rtcp.DLRRReport{SSRC: ssrc, LastRR: ntpMiddle(rrtrNTP), DLRR: toNTPShort(now.Sub(arrival))}
}

// RTTFromDLRR computes the round-trip time from a DLRR sub-block that
// arrived at arrival (RFC 3611 §4.5: A − LRR − DLRR); false when the
// sub-block echoes no RRTR or the result is negative.
func RTTFromDLRR(r rtcp.DLRRReport, arrival time.Time) (time.Duration, bool) {
	return rttFromLSR(arrival, r.LastRR, r.DLRR)
}

// RTTFromReport computes the round-trip time from a reception report block
// that arrived at arrival (RFC 3550 §6.4.1: A − LSR − DLSR); false when
// the block echoes no SR or the result is negative.
func RTTFromReport(r rtcp.ReceptionReport, arrival time.Time) (time.Duration, bool) {
	return rttFromLSR(arrival, r.LastSenderReport, r.Delay)
}
