package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// BudgetPeriod is how often a budget starts afresh. Periods are calendar
// periods in UTC: a daily budget resets at 00:00 UTC, a monthly one on the
// first of the month.
type BudgetPeriod string

// The budget periods. NoPeriod goes with a BudgetUSD of 0 (no budget).
const (
	NoPeriod      BudgetPeriod = ""
	PeriodTotal   BudgetPeriod = "total"
	PeriodDaily   BudgetPeriod = "daily"
	PeriodMonthly BudgetPeriod = "monthly"
)

// Valid reports whether p is one of the defined periods, NoPeriod included.
func (p BudgetPeriod) Valid() bool {
	switch p {
	case NoPeriod, PeriodTotal, PeriodDaily, PeriodMonthly:
		return true
	}
	return false
}

// Limits are the caps a key or a team carries. 0 means unlimited. A key's
// requests count against its own limits and against its team's.
type Limits struct {
	// RPM caps requests per minute.
	RPM int64
	// TPM caps tokens (input + output) per minute.
	TPM int64
	// MaxConcurrent caps requests in flight at once.
	MaxConcurrent int64
	// BudgetUSD caps spend per BudgetPeriod, in US dollars.
	BudgetUSD float64
	// BudgetPeriod is required when BudgetUSD > 0, and must be NoPeriod
	// otherwise.
	BudgetPeriod BudgetPeriod
}

func (l Limits) validate() error {
	switch {
	case l.RPM < 0:
		return invalid("rpm", "must not be negative")
	case l.TPM < 0:
		return invalid("tpm", "must not be negative")
	case l.MaxConcurrent < 0:
		return invalid("max_concurrent", "must not be negative")
	case l.BudgetUSD < 0 || math.IsNaN(l.BudgetUSD) || math.IsInf(l.BudgetUSD, 0):
		return invalid("budget_usd", "must be a finite number ≥ 0")
	case !l.BudgetPeriod.Valid():
		return invalid("budget_period", fmt.Sprintf("%q is not total, daily or monthly", l.BudgetPeriod))
	case l.BudgetUSD > 0 && l.BudgetPeriod == NoPeriod:
		return invalid("budget_period", "is required with budget_usd")
	case l.BudgetUSD == 0 && l.BudgetPeriod != NoPeriod:
		return invalid("budget_period", "is set without budget_usd")
	}
	return nil
}

// VirtualKey is a client key handed out by llmux. The raw secret is never
// stored: only its SHA-256 (HashKey) and a short prefix for display.
type VirtualKey struct {
	// ID is the stable identifier ("key_…"); assigned by CreateKey when empty.
	ID string
	// Name says whom or what the key is for. Required.
	Name string
	// TeamID is the team whose limits the key shares; "" for none.
	TeamID string
	// Hash is HashKey of the raw secret. Unique; never changes.
	Hash [32]byte
	// Prefix is the start of the secret for display, e.g. "sk-llmux-abcd".
	Prefix string
	// Models are glob patterns of the model names the key may use; empty
	// means all. Their syntax is internal/keys' business; the store only
	// refuses empty patterns.
	Models []string
	// Limits are the key's own caps.
	Limits
	// ExpiresAt is when the key stops working; zero for never.
	ExpiresAt time.Time
	// Enabled is false for a key switched off for now (it can be switched on
	// again, unlike a revoked key).
	Enabled bool
	// Metadata is free-form labels.
	Metadata map[string]string
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
	// RevokedAt is when the key was revoked; zero while it is not.
	RevokedAt time.Time
	// Revision is the store revision of the key's last change (set by the
	// store; see UpdateKey).
	Revision int64
}

// Usable reports whether the key may authenticate a request at now: enabled,
// not revoked, not expired. Team state and limits are checked elsewhere.
func (k *VirtualKey) Usable(now time.Time) bool {
	return k.Enabled && k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

// Validate checks the fields UpdateKey changes. Errors wrap ErrInvalid and
// name the field as the admin API spells it.
func (k *VirtualKey) Validate() error {
	if err := checkText("name", k.Name, 200, true); err != nil {
		return err
	}
	if err := checkText("team", k.TeamID, 100, false); err != nil {
		return err
	}
	for i, m := range k.Models {
		if err := checkText(fmt.Sprintf("models[%d]", i), m, 200, true); err != nil {
			return err
		}
	}
	if err := k.Limits.validate(); err != nil {
		return err
	}
	return checkMetadata(k.Metadata)
}

// ValidateNew checks a key for CreateKey: Validate, and the fields set only
// at creation (ID, Hash, Prefix).
func (k *VirtualKey) ValidateNew() error {
	if err := k.Validate(); err != nil {
		return err
	}
	if err := checkText("id", k.ID, 100, false); err != nil {
		return err
	}
	if err := checkText("prefix", k.Prefix, 64, false); err != nil {
		return err
	}
	if k.Hash == ([32]byte{}) {
		return invalid("hash", "is required")
	}
	return nil
}

// KeyFilter selects keys for ListKeys.
type KeyFilter struct {
	// TeamID keeps only the keys of this team; "" for all.
	TeamID string
	// IncludeRevoked lists revoked keys too.
	IncludeRevoked bool
}

// Team groups keys that share limits and a budget.
type Team struct {
	// ID is the stable identifier ("team_…"); assigned when empty.
	ID string
	// Name is unique among teams. Required.
	Name string
	// Limits are the team's caps, shared by all its keys together.
	Limits
	// Enabled false refuses every key of the team.
	Enabled bool
	// Metadata is free-form labels.
	Metadata map[string]string
	// CreatedAt and UpdatedAt are set by the store.
	CreatedAt, UpdatedAt time.Time
	// Revision is the store revision of the team's last change.
	Revision int64
}

// Validate checks the fields a caller sets; errors wrap ErrInvalid.
func (t *Team) Validate() error {
	if err := checkText("name", t.Name, 200, true); err != nil {
		return err
	}
	if err := checkText("id", t.ID, 100, false); err != nil {
		return err
	}
	if err := t.Limits.validate(); err != nil {
		return err
	}
	return checkMetadata(t.Metadata)
}

// HashKey is the hash under which a raw key is stored and looked up.
func HashKey(raw string) [32]byte { return sha256.Sum256([]byte(raw)) }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + 20 random characters (100 bits), e.g.
// NewID("key"). Stores use it for IDs left empty.
func NewID(prefix string) string {
	var b [13]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return prefix + "_" + idEncoding.EncodeToString(b[:])[:20]
}

func invalid(field, problem string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, problem)
}

// checkText refuses what one of the databases would refuse or mangle: NUL
// bytes and invalid UTF-8. It also caps the length (in bytes).
func checkText(field, s string, max int, required bool) error {
	switch {
	case required && strings.TrimSpace(s) == "":
		return invalid(field, "is required")
	case len(s) > max:
		return invalid(field, fmt.Sprintf("is longer than %d bytes", max))
	case !utf8.ValidString(s):
		return invalid(field, "is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		return invalid(field, "contains a NUL byte")
	}
	return nil
}

func checkMetadata(m map[string]string) error {
	if len(m) > 64 {
		return invalid("metadata", "has more than 64 entries")
	}
	for k, v := range m {
		if err := checkText("metadata key", k, 100, true); err != nil {
			return err
		}
		if err := checkText("metadata."+k, v, 1000, false); err != nil {
			return err
		}
	}
	return nil
}
