package vqreport

import (
	"fmt"
	"strings"
	"time"

	"github.com/switchboard/switchboard/cdr"
	"github.com/switchboard/switchboard/rtcpstats"
)

// ContentType and Event are the PUBLISH's Content-Type and Event values
// (RFC 6035 §4.1, §4.2).
const (
	ContentType = "application/vq-rtcpxr"
	Event       = "vq-rtcpxr"
)

// Format returns the RFC 6035 §4.7 session report (VQSessionReport:
// CallTerm) of one leg of a finished call. leg is an entry of rec.Quality.
func Format(rec *cdr.Record, leg rtcpstats.LegQuality) []byte {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\r\n")
	}
	callID, local, remote := rec.ACallID, rec.To, rec.From
	if leg.Leg == "b" {
		// Switchboard calls the callee on the caller's behalf.
		callID, local, remote = rec.BCallID, rec.From, rec.To
	}
	line("VQSessionReport: CallTerm")
	line("CallID: %s", word(callID))
	line("LocalID: <sip:%s>", word(local))
	line("RemoteID: <sip:%s>", word(remote))
	line("OrigID: <sip:%s>", word(rec.From))
	line("LocalGroup: %s", word(rec.CallID))
	line("LocalAddr: %s", addr(leg.LocalAddr, leg.LocalSSRC))
	line("RemoteAddr: %s", addr(leg.RemoteAddr, leg.RemoteSSRC))

	line("LocalMetrics:")
	line("Timestamps: %s", timestamps(rec))
	line("SessionDesc: %s", sessionDesc(leg))
	if r := leg.Received; r.JitterBufferMs > 0 || r.JitterBufferMaxMs > 0 {
		// Only the processing path has a jitter buffer; 3 = adaptive.
		line("JitterBuffer: JBA=3 JBN=%d JBM=%d", round(r.JitterBufferMs), round(r.JitterBufferMaxMs))
	}
	r := leg.Received
	line("PacketLoss: NLR=%.1f JDR=%.1f", 100*r.LossRate, discardRate(r))
	line("BurstGapLoss: BLD=%.1f GLD=%.1f GMIN=16", 100*r.BurstDensity, 100*r.GapDensity)
	line("Delay: %sIAJ=%d", rtd(leg), round(r.JitterMeanMs))
	if r.MOS > 0 {
		line("QualityEstimates: RCQ=%d MOSLQ=%.1f MOSCQ=%.1f QoEEstAlg=ITU-T G.107", round(r.RFactor), r.MOSLQ, r.MOS)
	}

	if s := leg.Sent; s.Reported {
		line("RemoteMetrics:")
		line("Timestamps: %s", timestamps(rec))
		line("SessionDesc: %s", sessionDesc(leg))
		line("PacketLoss: NLR=%.1f", 100*s.FarFractionLost)
		line("Delay: %sIAJ=%d", rtd(leg), round(s.FarJitterMs))
		if s.FarMOS > 0 {
			line("QualityEstimates: RCQ=%d MOSCQ=%.1f", round(s.FarRFactor), s.FarMOS)
		}
	}
	line("DialogID: %s", word(callID))
	return []byte(b.String())
}

// word keeps a header value on its line: CR, LF and spaces could end the
// field or forge another one.
func word(s string) string {
	if s == "" {
		return "unknown"
	}
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, s)
}

// addr is a LocalAddr/RemoteAddr value: "IP=... PORT=... SSRC=0x...".
func addr(ap string, ssrc uint32) string {
	ip, port := "0.0.0.0", "0"
	if i := strings.LastIndexByte(ap, ':'); i > 0 {
		ip, port = strings.Trim(ap[:i], "[]"), ap[i+1:]
	}
	return fmt.Sprintf("IP=%s PORT=%s SSRC=0x%08X", ip, port, ssrc)
}

func timestamps(rec *cdr.Record) string {
	start := rec.Start
	if !rec.Answer.IsZero() {
		start = rec.Answer
	}
	return fmt.Sprintf("START=%s STOP=%s", start.UTC().Format(time.RFC3339), rec.End.UTC().Format(time.RFC3339))
}

func sessionDesc(leg rtcpstats.LegQuality) string {
	var b strings.Builder
	if leg.Codec != "" {
		fmt.Fprintf(&b, "PD=%s ", word(leg.Codec))
	}
	if leg.PtimeMs > 0 {
		fmt.Fprintf(&b, "FD=%d PPS=%d ", round(leg.PtimeMs), round(1000/leg.PtimeMs))
	}
	b.WriteString("PLC=3") // standard concealment on the processing path
	return b.String()
}

// discardRate is the jitter-buffer discard rate in percent (JDR): late and
// discarded packets over those expected.
func discardRate(r rtcpstats.ReceivedQuality) float64 {
	if r.Expected == 0 {
		return 0
	}
	return 100 * float64(r.Late+r.Discarded) / float64(r.Expected)
}

// rtd is the "RTD=... " round-trip delay field, empty when unmeasured.
func rtd(leg rtcpstats.LegQuality) string {
	if leg.RTTSamples == 0 {
		return ""
	}
	return fmt.Sprintf("RTD=%d ", round(leg.RTTMs))
}

func round(f float64) int { return int(f + 0.5) }
