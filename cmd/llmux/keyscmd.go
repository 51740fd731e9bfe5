package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/llmux/llmux/internal/app"
	"github.com/llmux/llmux/internal/config"
	"github.com/llmux/llmux/internal/glob"
	"github.com/llmux/llmux/internal/keys"
	"github.com/llmux/llmux/internal/store"
)

const keysUsage = `Usage:
  llmux keys create --name NAME [--team TEAM] [--models GLOB,...] [--rpm N] [--tpm N]
                    [--max-concurrent N] [--budget-usd X --budget-period total|daily|monthly]
                    [--expires YYYY-MM-DD|RFC3339] [--json]
  llmux keys list [--team TEAM] [--all]
  llmux keys revoke ID

Every command takes --config FILE (default $LLMUX_CONFIG) to find the
database; without one it uses ./llmux.db. A created key is printed once; only
its hash is stored. A running gateway picks changes up within a second.
`

// keysCmd manages virtual keys directly in the database.
func keysCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errUsage
	}
	fs := flag.NewFlagSet("keys "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	configFlag := fs.String("config", "", "configuration file (YAML or JSON); default $LLMUX_CONFIG")
	var (
		name, team, models, period, expires string
		rpm, tpm, conc                      int64
		budget                              float64
		asJSON, all                         bool
	)
	switch args[0] {
	case "create":
		fs.StringVar(&name, "name", "", "whom or what the key is for (required)")
		fs.StringVar(&team, "team", "", "team id or name whose limits the key shares")
		fs.StringVar(&models, "models", "", "comma-separated model globs the key may use (default all)")
		fs.Int64Var(&rpm, "rpm", 0, "requests per minute (0: unlimited)")
		fs.Int64Var(&tpm, "tpm", 0, "tokens per minute (0: unlimited)")
		fs.Int64Var(&conc, "max-concurrent", 0, "requests in flight at once (0: unlimited)")
		fs.Float64Var(&budget, "budget-usd", 0, "budget in US dollars per period (0: none)")
		fs.StringVar(&period, "budget-period", "", "total, daily or monthly")
		fs.StringVar(&expires, "expires", "", "expiry: YYYY-MM-DD (start of that day, UTC) or RFC 3339")
		fs.BoolVar(&asJSON, "json", false, "print the key as JSON")
	case "list":
		fs.StringVar(&team, "team", "", "only this team's keys (id or name)")
		fs.BoolVar(&all, "all", false, "include revoked keys")
	case "revoke":
	default:
		fmt.Fprintf(stderr, "llmux keys: unknown command %q\n\n%s", args[0], keysUsage)
		return errUsage
	}
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(config.ConfigPath(*configFlag))
	if err != nil {
		return err
	}
	st, err := app.OpenStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	switch args[0] {
	case "create":
		if fs.NArg() > 0 {
			return fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		k := store.VirtualKey{Name: name, Enabled: true,
			Limits: store.Limits{RPM: rpm, TPM: tpm, MaxConcurrent: conc, BudgetUSD: budget, BudgetPeriod: store.BudgetPeriod(period)}}
		if team != "" {
			if k.TeamID, err = findTeam(ctx, st, team); err != nil {
				return err
			}
		}
		for i, m := range strings.Split(models, ",") {
			if m = strings.TrimSpace(m); m == "" {
				continue
			}
			if err := glob.Valid(m); err != nil {
				return fmt.Errorf("--models: pattern %d %q %v", i+1, m, err)
			}
			k.Models = append(k.Models, m)
		}
		if expires != "" {
			if k.ExpiresAt, err = parseTime(expires); err != nil {
				return fmt.Errorf("--expires: %v", err)
			}
			if !k.ExpiresAt.After(time.Now()) {
				return fmt.Errorf("--expires: %s is in the past", expires)
			}
		}
		sec := keys.NewSecret()
		k.Hash, k.Prefix = sec.Hash, sec.Prefix
		if err := k.Validate(); err != nil {
			return flagError(err)
		}
		if k, err = st.CreateKey(ctx, k); err != nil {
			return flagError(err)
		}
		if asJSON {
			return json.NewEncoder(stdout).Encode(map[string]any{"id": k.ID, "key": sec.Raw, "name": k.Name, "team": k.TeamID})
		}
		fmt.Fprintf(stdout, "%s\n", sec.Raw)
		fmt.Fprintf(stderr, "created key %s (%s); the key above is shown only now\n", k.ID, k.Name)
		return nil
	case "list":
		f := store.KeyFilter{IncludeRevoked: all}
		if team != "" {
			if f.TeamID, err = findTeam(ctx, st, team); err != nil {
				return err
			}
		}
		list, err := st.ListKeys(ctx, f)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tPREFIX\tTEAM\tMODELS\tRPM\tTPM\tBUDGET\tSTATE")
		for _, k := range list {
			budget := "-"
			if k.BudgetUSD > 0 {
				budget = fmt.Sprintf("$%g/%s", k.BudgetUSD, k.BudgetPeriod)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", k.ID, k.Name, k.Prefix, dash(k.TeamID),
				dash(strings.Join(k.Models, ",")), k.RPM, k.TPM, budget, keyState(&k))
		}
		return tw.Flush()
	default: // revoke
		if fs.NArg() != 1 {
			return errors.New("llmux keys revoke takes one key id")
		}
		k, err := st.RevokeKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s (%s)\n", k.ID, k.Name)
		return nil
	}
}

// errUsage reports a command line that was wrong; the usage is printed.
var errUsage = errors.New("usage")

func findTeam(ctx context.Context, st store.Store, idOrName string) (string, error) {
	if t, err := st.GetTeam(ctx, idOrName); err == nil {
		return t.ID, nil
	}
	teams, err := st.ListTeams(ctx)
	if err != nil {
		return "", err
	}
	for _, t := range teams {
		if t.Name == idOrName {
			return t.ID, nil
		}
	}
	return "", fmt.Errorf("--team: no team has the id or name %q", idOrName)
}

// flagError turns a store validation error ("store: invalid: rpm: …") into
// one that names the flag.
func flagError(err error) error {
	if !errors.Is(err, store.ErrInvalid) {
		return err
	}
	msg := strings.TrimPrefix(err.Error(), store.ErrInvalid.Error()+": ")
	field, rest, _ := strings.Cut(msg, ": ")
	return fmt.Errorf("--%s: %s", strings.ReplaceAll(field, "_", "-"), rest)
}

func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither YYYY-MM-DD nor RFC 3339 (2027-01-31T00:00:00Z)", s)
	}
	return t.UTC(), nil
}

func keyState(k *store.VirtualKey) string {
	now := time.Now()
	switch {
	case !k.RevokedAt.IsZero():
		return "revoked"
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return "expired"
	case !k.Enabled:
		return "disabled"
	}
	return "active"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
