package main

import (
	"context"
	"fmt"

	"github.com/breakwater-fasp/breakwater/provider/sealbox"
)

func cmdSecret(_ context.Context, args []string, io stdio) error {
	if len(args) != 1 || args[0] != "generate" {
		return usageErr("usage: breakwater secret generate")
	}
	fmt.Fprintln(io.out, sealbox.Generate())
	return nil
}
