package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/breakwater-fasp/breakwater/models"
	"github.com/breakwater-fasp/breakwater/provider/fault"
	"github.com/breakwater-fasp/breakwater/provider/msgsig"
)

// DebugCall is one logged call of the debug capability.
type DebugCall struct {
	ID             uint64
	ReceivedAt     time.Time
	SourceIP       string
	Body           string
	CallbackStatus int
	CallbackError  string
	CallbackAt     *time.Time
}

// DebugLog implements the debug spec's callback capability: it logs the call
// (time, source IP, JSON body) and then, without holding up the answer,
// calls the server back at <base>/debug/v0/callback/responses with the same
// body, signed with keyid = the server's faspId, recording the outcome.
func (s *Service) DebugLog(ctx context.Context, c *Caller, sourceIP string, body []byte) error {
	if len(bytes.TrimSpace(body)) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(body, &obj); err != nil {
			return &fault.ValidationError{Message: "the body must be empty or a single JSON object"}
		}
	}
	call := &models.DebugCall{ServerID: c.ServerID, ReceivedAt: s.now(), SourceIP: sourceIP, Body: string(body)}
	if err := s.db.InsertDebugCall(ctx, call); err != nil {
		return fmt.Errorf("log debug call: %w: %w", fault.ErrUnavailable, err)
	}
	srv, err := s.db.GetServer(ctx, c.ServerID)
	if err != nil {
		return fmt.Errorf("load server %s: %w", c.ServerID, err)
	}
	cred := c.cred
	payload := append([]byte(nil), body...)
	started := s.goBackground(func(ctx context.Context) {
		status, cbErr := s.callBack(ctx, srv.BaseURL, cred, payload)
		msg := ""
		if cbErr != nil {
			msg = cbErr.Error()
			if len(msg) > 1000 {
				msg = msg[:1000]
			}
		}
		if err := s.db.FinishDebugCall(context.WithoutCancel(ctx), c.ServerID, call.ID, status, msg, s.now()); err != nil {
			s.opts.Logger.Error("record debug callback outcome", "server_id", c.ServerID, "error", err)
		}
	})
	if !started {
		_ = s.db.FinishDebugCall(ctx, c.ServerID, call.ID, 0, "not attempted: too many callbacks in flight", s.now())
	}
	return nil
}

// callBack makes the debug callback and checks the server's signed answer.
func (s *Service) callBack(ctx context.Context, base string, cred credential, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(base, "/")+"/debug/v0/callback/responses", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := msgsig.SignRequest(req, body, cred.faspID, cred.private, s.now()); err != nil {
		return 0, fmt.Errorf("sign callback: %w", err)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	rbody, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("server answered HTTP %d", resp.StatusCode)
	}
	if err := msgsig.VerifyResponse(resp.StatusCode, resp.Header, rbody, cred.remote, s.now(), 15*time.Minute); err != nil {
		return resp.StatusCode, fmt.Errorf("server's answer is not correctly signed: %w", err)
	}
	return resp.StatusCode, nil
}

// DebugCalls lists the debug calls of one server, newest first.
func (s *Service) DebugCalls(ctx context.Context, serverID string, limit int) ([]DebugCall, error) {
	rows, err := s.db.DebugCalls(ctx, serverID, limit)
	if err != nil {
		return nil, fmt.Errorf("list debug calls of %s: %w", serverID, err)
	}
	out := make([]DebugCall, len(rows))
	for i, r := range rows {
		out[i] = DebugCall{ID: r.ID, ReceivedAt: r.ReceivedAt, SourceIP: r.SourceIP, Body: r.Body,
			CallbackStatus: r.CallbackStatus, CallbackError: r.CallbackError, CallbackAt: r.CallbackAt}
	}
	return out, nil
}
