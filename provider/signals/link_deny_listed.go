package signals

import "context"

// linkDenyListed applies the server's and the provider's link domain deny
// lists (parent domains included); the server's allow list wins.
type linkDenyListed struct{}

var _ Signal = (*linkDenyListed)(nil)

func init() { Register(&linkDenyListed{}) }

func (*linkDenyListed) Info() Info {
	return Info{Code: "link_deny_listed", Gate: GateContent, Weight: LevelReject,
		Description: "A link points to a domain (or subdomain of one) on the server's or the provider's deny list and not on the server's allow list."}
}

func (*linkDenyListed) Evaluate(_ context.Context, in *Input, _ State, _ any) []Hit {
	provider := false
	for _, d := range in.Content.LinkDomains {
		if _, ok := in.Policy.AllowDomains.Match(d); ok {
			continue
		}
		if _, ok := in.Policy.DenyDomains.Match(d); ok {
			return []Hit{{Code: "link_deny_listed", Points: LevelReject, Message: "The post links to a domain on this server's deny list."}}
		}
		if _, ok := in.Lists.DenyLinkDomains.Match(d); ok {
			provider = true
		}
	}
	if provider {
		return []Hit{{Code: "link_deny_listed", Points: LevelReject, Message: "The post links to a domain on the provider's deny list."}}
	}
	return nil
}
