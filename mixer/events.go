package mixer

import "time"

// EventKind names what happened in a room.
type EventKind int

// Room events, in the order a participant meets them.
const (
	// EventJoin: a participant entered the mix (the first tick after Join).
	EventJoin EventKind = iota + 1
	// EventLeave: a participant left the mix (the first tick after Leave).
	EventLeave
	// EventTalkStart: a participant's voice activity began (VAD, after
	// the participant was silent past the hangover).
	EventTalkStart
	// EventTalkStop: a participant's voice activity ended (hangover over,
	// muted, input dry, or left while talking).
	EventTalkStop
	// EventEmpty: the last participant left; the owner may Close the room.
	EventEmpty
)

// String returns the event's name as written in records.
func (k EventKind) String() string {
	switch k {
	case EventJoin:
		return "join"
	case EventLeave:
		return "leave"
	case EventTalkStart:
		return "talk-start"
	case EventTalkStop:
		return "talk-stop"
	case EventEmpty:
		return "empty"
	}
	return "unknown"
}

// Event is one room event, delivered to Config.Events on the goroutine that
// calls Room.Tick.
type Event struct {
	// Kind says what happened.
	Kind EventKind
	// Room is Config.Name of the room.
	Room string
	// Participant is ParticipantConfig.ID (empty for EventEmpty).
	Participant string
	// At is the now passed to the Tick that noticed the event.
	At time.Time
	// Participants is the room's size after the event.
	Participants int
}
