package store

import "time"

// AnyRevision as the ifRevision of PutSetting or DeleteSetting writes
// whatever the current revision is.
const AnyRevision int64 = -1

// Setting is one named, shared value.
type Setting struct {
	// Name is slash-separated, e.g. "providers/openai".
	Name string
	// Value is opaque to the store (JSON by convention).
	Value []byte
	// Revision is the store revision of the setting's last change.
	Revision int64
	// UpdatedAt is when it last changed.
	UpdatedAt time.Time
}

// MaxSettingSize caps a setting's value.
const MaxSettingSize = 1 << 20

// ValidateSettingName checks a setting name: 1 to 200 bytes of valid UTF-8,
// no NUL. Errors wrap ErrInvalid.
func ValidateSettingName(name string) error { return checkText("name", name, 200, true) }

// ChangeKind says what a Change is about.
type ChangeKind string

// The kinds of change. The ID of a Change is a key ID, a team ID or a
// setting name.
const (
	ChangeKey     ChangeKind = "key"
	ChangeTeam    ChangeKind = "team"
	ChangeSetting ChangeKind = "setting"
)

// Change is one entry of the change log: something with this kind and ID was
// created, updated, revoked or deleted at this revision. An instance that
// caches keys, teams or settings drops the entry and reads it again.
type Change struct {
	Revision int64
	Kind     ChangeKind
	ID       string
	At       time.Time
}
