package cdr

import (
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/switchboard/switchboard/rtcpstats"
)

// Dispositions (Record.Disposition).
const (
	Answered  = "answered"
	Busy      = "busy"
	NoAnswer  = "no-answer"
	Cancelled = "cancelled"
	Failed    = "failed"
)

// Hangup sides (Record.HangupSide).
const (
	HangupCaller      = "caller"
	HangupCallee      = "callee"
	HangupSwitchboard = "switchboard"
)

// Record is one call detail record: every call ends in exactly one.
// It is written as one JSON line; times are RFC 3339 in UTC with
// milliseconds.
type Record struct {
	// CallID is Switchboard's own id for the call (the one in its logs).
	CallID string `json:"call_id"`
	// ACallID and BCallID are the SIP Call-IDs of the caller's and callee's
	// legs (BCallID empty when no B leg was created).
	ACallID string `json:"a_call_id"`
	BCallID string `json:"b_call_id"`
	// From is the caller (From URI user or number), To the To header's.
	From string `json:"from"`
	To   string `json:"to"`
	// Dialled is the Request-URI user as dialled; after rewriting the number
	// sent on may differ (see Route).
	Dialled string `json:"dialled"`
	// Caller is who placed the call as Switchboard identified them: the
	// authenticated user name, or "trunk:NAME" for a trusted trunk.
	Caller string `json:"caller"`
	// SourceTrunk names the trunk an inbound call came from (empty for users).
	SourceTrunk string `json:"source_trunk,omitempty"`
	// Route is the matched route's match expression; Trunk the trunk the
	// call went out to.
	Route string `json:"route"`
	Trunk string `json:"trunk"`
	// Start is when the INVITE arrived, Answer when it was answered (zero if
	// never: omitted from the JSON), End when the call ended.
	Start  time.Time `json:"start"`
	Answer time.Time `json:"answer,omitzero"`
	End    time.Time `json:"end"`
	// DurationS is End-Start and BillableS End-Answer (0 if not answered), in
	// seconds with millisecond precision. Writer.Write fills both.
	DurationS float64 `json:"duration_s"`
	BillableS float64 `json:"billable_s"`
	// Status is the final SIP status sent to the caller (200 if answered).
	Status int `json:"status"`
	// Disposition is answered, busy, no-answer, cancelled or failed (see
	// Disposition).
	Disposition string `json:"disposition"`
	// HangupSide is who ended the call: caller, callee or switchboard.
	HangupSide string `json:"hangup_side"`
	// HangupReason says why, e.g. "bye", "cancel", "ring-timeout",
	// "media-timeout", "shutdown", or a SIP status reason.
	HangupReason string `json:"hangup_reason"`
	// Q850Cause is the call's ITU-T Q.850 cause (RFC 3398): the cause of
	// the Q.850 Reason header (RFC 3326) that ended the call when it had
	// one, otherwise the cause mapped from Status (16 for an answered call
	// or a BYE or CANCEL without a Reason).
	Q850Cause int `json:"q850_cause,omitempty"`
	// ReasonSide is whose Reason header ended the call: caller or callee
	// when their BYE, CANCEL or final response carried one, switchboard
	// when Switchboard supplied it (by default or from the status).
	ReasonSide string `json:"reason_side,omitempty"`
	// Reason is that Reason header's value as sent on, e.g.
	// `Q.850;cause=16;text="Normal call clearing"`.
	Reason string `json:"reason,omitempty"`
	// CodecA and CodecB are the negotiated codecs of each leg ("PCMU/8000").
	// SIP transport of each leg (UDP, TCP or TLS), for TLS-first
	// reporting (issue 10, item 2).
	TransportA string `json:"transport_a,omitempty"`
	TransportB string `json:"transport_b,omitempty"`
	// SRTP (issue 10, item 4): each leg's media security, the SDES crypto
	// suite protecting its RTP and RTCP (e.g. "AES_CM_128_HMAC_SHA1_80")
	// or "none" for plain RTP.
	SRTPA string `json:"srtp_a,omitempty"`
	SRTPB string `json:"srtp_b,omitempty"`

	CodecA string `json:"codec_a"`
	CodecB string `json:"codec_b"`
	// Digits are the DTMF key presses of the call, in order.
	Digits []Digit `json:"digits,omitempty"`
	// Transcoded is true when the legs use different codecs and
	// Switchboard transcodes between them.
	Transcoded bool `json:"transcoded,omitempty"`
	// SilentLeg, for a call ended by the RTP inactivity timeout, names the
	// leg from which neither RTP nor RTCP arrived: "a" (the caller's), "b"
	// (the callee's) or "both"; hangup_reason is then "rtp-timeout".
	SilentLeg string `json:"silent_leg,omitempty"`
	// Transfer (REFER, RFC 3515; Replaces, RFC 3891): a transferred call
	// ends its record with hangup_reason "transferred", the call that
	// continues (the remaining party with the transfer target) has a record
	// of its own, and both carry the same TransferID. TransferredTo, on the
	// first, and TransferredFrom, on the second, name the other's call_id.
	TransferID      string `json:"transfer_id,omitempty"`
	TransferredFrom string `json:"transferred_from,omitempty"`
	TransferredTo   string `json:"transferred_to,omitempty"`
	// Media counters per direction, as relayed by Switchboard.
	AToBPackets uint64 `json:"a_to_b_packets"`
	AToBBytes   uint64 `json:"a_to_b_bytes"`
	BToAPackets uint64 `json:"b_to_a_packets"`
	BToABytes   uint64 `json:"b_to_a_bytes"`
	// Quality is the call's media quality record, one entry per leg with
	// media (media.CallQuality), inside the CDR so that each call has one
	// record; absent for calls without media. Its type belongs to
	// rtcpstats, which owns the record's shape, so cdr depends on no part
	// of the media engine.
	Quality *rtcpstats.CallQuality `json:"quality,omitempty"`

	// Services, recording and conferences (b2bua/service_call.go,
	// recording.go, conference.go).
	// Service names the built-in service that answered the call (echo,
	// tone, playback, conference), empty for a call to a user or trunk.
	Service string `json:"service,omitempty"`
	// Room is the conference room a to: conference call joined, and
	// RoomEvents what happened in it while the call was there (joins,
	// leaves, talk starts and stops; participants by CDR call_id), at
	// most MaxRoomEvents.
	Room       string      `json:"room,omitempty"`
	RoomEvents []RoomEvent `json:"room_events,omitempty"`
	// Recording is the call's recording file (absent when not recorded)
	// and RecordingState its state at the end: complete, cut (a disk
	// error; the file holds what was written before) or failed (the file
	// could not be created).
	Recording      string `json:"recording,omitempty"`
	RecordingState string `json:"recording_state,omitempty"`
	// Trunk targets (issue 13, trunks by DNS with failover): the targets
	// a call to a trunk given by host name was sent to, in the order
	// tried, each as "udp 192.0.2.1:5060 (sip1.example. via
	// _sip._udp.example.)" followed by " → 503" (or 408, "timeout") when
	// the call moved on from it.
	TrunkTargets []string `json:"trunk_targets,omitempty"`
	// Caller identity (issue 15, STIR/SHAKEN; b2bua/identity.go). OrigID
	// and Attest are the origid and attestation level of the PASSporT
	// Switchboard signed for the trunk the call went out to. Verstat is
	// the verification of a call from a trunk (TN-Validation-Passed,
	// TN-Validation-Failed, No-TN-Validation); VerifiedAttest and
	// VerifiedOrigID are the claims of the PASSporT that passed, or
	// VerifyStatus (RFC 8224 §6.2.2: 428, 436, 437, 438, 403) and
	// VerifyError say why it did not.
	OrigID         string `json:"origid,omitempty"`
	Attest         string `json:"attest,omitempty"`
	Verstat        string `json:"verstat,omitempty"`
	VerifiedAttest string `json:"verified_attest,omitempty"`
	VerifiedOrigID string `json:"verified_origid,omitempty"`
	VerifyStatus   int    `json:"verify_status,omitempty"`
	VerifyError    string `json:"verify_error,omitempty"`
	// Caller privacy (RFC 3323/3325; b2bua/privacy.go): Privacy is what
	// the caller asked for (its Privacy header, e.g. "id"), and
	// AssertedIdentity the P-Asserted-Identity sent to the trunk.
	Privacy          string `json:"privacy,omitempty"`
	AssertedIdentity string `json:"asserted_identity,omitempty"`

	// Streams beside audio (issue 17, b2bua/call_streams.go): one entry
	// per video m-line the call relayed or refused.
	Streams []StreamRecord `json:"streams,omitempty"`
	// Fax is how a fax crossed the call: t38-relayed (a T.38 re-INVITE
	// relayed end to end as UDPTL), t38-gatewayed (T.38 refused by the
	// other leg, Switchboard's gateway between T.38 and its G.711) or
	// g711-passthrough (T.38 refused, no gateway: the fax tones relayed
	// as audio); absent when no T.38 re-INVITE was seen. FaxPages is the
	// pages the gateway carried (t38-gatewayed only).
	Fax      string `json:"fax,omitempty"`
	FaxPages int    `json:"fax_pages,omitempty"`
}

// RoomEvent is one conference room event in a participant's record.
type RoomEvent struct {
	// Event is join, leave, talk-start, talk-stop or empty.
	Event string `json:"event"`
	// Participant is the participant's CDR call_id.
	Participant string `json:"participant,omitempty"`
	// At is when the room's clock noticed it.
	At time.Time `json:"at"`
	// Participants is the room's size after it.
	Participants int `json:"participants"`
}

// MaxRoomEvents bounds RoomEvents: a record of a long call in a busy
// room keeps the first ones.
const MaxRoomEvents = 100

// timeLayout is RFC 3339 with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// recordAlias has Record's fields without its methods.
type recordAlias Record

// recordJSON overrides the time fields with their formatted strings; the
// outer fields shadow the embedded ones (encoding/json depth rule).
type recordJSON struct {
	recordAlias
	Start  string `json:"start"`
	Answer string `json:"answer,omitempty"`
	End    string `json:"end"`
}

// MarshalJSON writes the record with times in UTC to the millisecond.
func (r Record) MarshalJSON() ([]byte, error) {
	return json.Marshal(recordJSON{
		recordAlias: recordAlias(r),
		Start:       formatTime(r.Start),
		Answer:      formatTime(r.Answer),
		End:         formatTime(r.End),
	})
}

// UnmarshalJSON reads a record written by MarshalJSON.
func (r *Record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*r = Record(j.recordAlias)
	var err error
	if r.Start, err = parseTime(j.Start); err != nil {
		return fmt.Errorf("cdr: start: %w", err)
	}
	if r.Answer, err = parseTime(j.Answer); err != nil {
		return fmt.Errorf("cdr: answer: %w", err)
	}
	if r.End, err = parseTime(j.End); err != nil {
		return fmt.Errorf("cdr: end: %w", err)
	}
	return nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(time.RFC3339, s)
}

// fillDurations computes DurationS and BillableS from the times.
func (r *Record) fillDurations() {
	r.DurationS, r.BillableS = 0, 0
	if r.Start.IsZero() || r.End.IsZero() {
		return
	}
	r.DurationS = seconds(r.End.Sub(r.Start))
	if !r.Answer.IsZero() {
		r.BillableS = seconds(r.End.Sub(r.Answer))
	}
}

// seconds rounds d to milliseconds, never below zero.
func seconds(d time.Duration) float64 {
	if d < 0 {
		return 0
	}
	return math.Round(float64(d.Milliseconds())) / 1000
}

// Disposition classifies a call by the final status sent to the caller and
// whether the caller cancelled it before answer: answered (2xx), cancelled
// (caller CANCEL), busy (486 Busy Here, 600 Busy Everywhere, 603 Decline),
// no-answer (408 Request Timeout, 480 Temporarily Unavailable, 487 Request
// Terminated without a caller CANCEL, e.g. a ring timeout), else failed.
func Disposition(status int, cancelled bool) string {
	switch {
	case status >= 200 && status < 300:
		return Answered
	case cancelled:
		return Cancelled
	}
	switch status {
	case 486, 600, 603:
		return Busy
	case 408, 480, 487:
		return NoAnswer
	}
	return Failed
}

// Digit is one DTMF key press of a call.
type Digit struct {
	// Leg is the leg it came from ("a" the caller's, "b" the callee's).
	Leg string `json:"leg"`
	// Key is "0"-"9", "*", "#", "A"-"D".
	Key string `json:"key"`
	// At is when the press began (its first RFC 4733 report or the INFO).
	At time.Time `json:"at"`
	// DurationMs is the press's length as signalled.
	DurationMs int64 `json:"duration_ms"`
	// Via is how it arrived: DigitRFC4733, DigitInfo or DigitInband.
	Via string `json:"via"`
}

// How a digit arrived.
const (
	DigitRFC4733 = "rfc4733"
	DigitInfo    = "info"
	DigitInband  = "inband"
)
