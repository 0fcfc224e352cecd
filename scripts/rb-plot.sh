#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# rb-plot.sh: the earlier name of scripts/rb-plot (charts from results
# JSON, docs/results.md), kept so that existing command lines work.
exec /usr/bin/python3 "$(dirname "$0")/rb-plot" "$@"
