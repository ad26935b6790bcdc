package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/breakwater-fasp/breakwater/provider"
	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

const secretUsage = "breakwater secret generate | breakwater secret reseal [--batch N]"

// cmdSecret prints a new secret key, or re-seals the stored secrets with the
// primary key after a rotation (BREAKWATER_SECRET_KEY=new,old).
func cmdSecret(ctx context.Context, args []string, io stdio) error {
	if len(args) == 0 {
		return usageErr(secretUsage)
	}
	switch args[0] {
	case "generate":
		if len(args) != 1 {
			return usageErr(secretUsage)
		}
		fmt.Fprintln(io.out, sealbox.Generate())
		return nil
	case "reseal":
		return cmdSecretReseal(ctx, args[1:], io)
	}
	return usageErr(secretUsage)
}

// cmdSecretReseal re-seals every sealed value in the database with the
// first key of BREAKWATER_SECRET_KEY. It runs beside serve (start it once
// every replica has the new key first) and may be run again.
func cmdSecretReseal(ctx context.Context, args []string, io stdio) error {
	var batch int
	cfg, pos, err := parseFlags("secret reseal", args, io, func(fs *flag.FlagSet) {
		fs.IntVar(&batch, "batch", 500, "values read and re-sealed per transaction")
	})
	if err != nil {
		return err
	}
	if len(pos) != 0 || batch < 1 {
		return usageErr(secretUsage)
	}
	app, err := openApp(ctx, cfg, io, false)
	if err != nil {
		return err
	}
	defer app.Close(ctx)
	older := app.box.Keys() - 1
	fmt.Fprintf(io.out, "re-sealing with key %s (%d older %s configured)\n", app.box.Fingerprint(), older, plural(older, "key", "keys"))
	counts, err := app.svc.ResealSecrets(ctx, provider.ResealOptions{Batch: batch})
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tRESEALED\tALREADY CURRENT\tFAILED TO OPEN\tCHANGED MEANWHILE")
	var failed []string
	for _, c := range counts {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", c.Kind, c.Resealed, c.Current, c.Failed, c.Changed)
		if c.Failed > 0 {
			rows := strings.Join(c.FailedRows, ", ")
			if len(c.FailedRows) < c.Failed {
				rows += ", …"
			}
			failed = append(failed, fmt.Sprintf("%d %s (rows %s)", c.Failed, c.Kind, rows))
		}
	}
	if ferr := tw.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return err
	}
	if len(failed) > 0 {
		return fmt.Errorf("values that no configured key opens were left as they are: %s; they were sealed with a key no longer configured, or are damaged", strings.Join(failed, "; "))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
