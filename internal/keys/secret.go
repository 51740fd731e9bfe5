package keys

import (
	"crypto/rand"
	"strings"

	"github.com/llmux/llmux/internal/store"
)

// SecretPrefix starts every virtual key llmux issues, so that a leaked key is
// recognisable (and secret scanners can be taught it).
const SecretPrefix = "sk-llmux-"

// secretAlphabet is base62: keys survive copy and paste, URLs and shells.
const secretAlphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// secretLen random characters carry about 238 bits.
const secretLen = 40

// Secret is a newly issued key: Raw is shown to its owner once; Hash and
// Prefix are what the store keeps.
type Secret struct {
	Raw    string
	Hash   [32]byte
	Prefix string
}

// NewSecret issues a random key "sk-llmux-" + 40 base62 characters.
func NewSecret() Secret {
	var b strings.Builder
	b.Grow(len(SecretPrefix) + secretLen)
	b.WriteString(SecretPrefix)
	var buf [secretLen * 2]byte
	for n := 0; n < secretLen; {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		for _, c := range buf {
			if c >= 248 { // 248 = 4*62: reject to keep every character equally likely
				continue
			}
			b.WriteByte(secretAlphabet[c%62])
			if n++; n == secretLen {
				break
			}
		}
	}
	raw := b.String()
	return Secret{Raw: raw, Hash: store.HashKey(raw), Prefix: DisplayPrefix(raw)}
}

// DisplayPrefix is the part of a key shown in lists: enough to tell keys
// apart, far too little to guess the rest.
func DisplayPrefix(raw string) string {
	n := len(SecretPrefix) + 4
	if !strings.HasPrefix(raw, SecretPrefix) {
		n = 6
	}
	if len(raw) <= n+8 {
		n = len(raw) / 3
	}
	return raw[:n] + "…"
}
