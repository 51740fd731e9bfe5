// Package keys turns the key a client sent into the principal a request runs
// as: a static key from the configuration, or a virtual key from the store
// with its team, model allow-list and limits. It caches what it read and
// follows the store's change log, so that a key revoked or changed on any
// instance is refused or changed here within one poll interval.
package keys
