/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Asking for a password on the terminal, as systemd's tools do: when
 * stdin is a terminal, the caller is not root and --no-ask-password was
 * not given, pkttyagent is started for this process (--process PID,START;
 * --fallback in a login session, so a desktop's agent keeps precedence:
 * polkitd uses a fallback agent only for a subject in a session) before a
 * call that may need authorization, and warrenctl waits until it has
 * registered. The calls carry the allow-interactive-authorization flag. */

#include <stdbool.h>

/* Starts the agent once; 0 also when none is wanted or possible (a
 * failure to start it is reported, not fatal: the call then fails with
 * polkit's answer). */
int polkit_agent_open(void);
/* Stops it (idempotent). */
void polkit_agent_close(void);
/* Whether an agent of ours runs. */
bool polkit_agent_running(void);

/* For an AccessDenied message naming an org.warren1 action ("not
 * authorized for org.warren1.create ..."): prints to stderr what the
 * action guards and what grants it. Nothing for other messages. */
void polkit_explain_denial(const char *message);
