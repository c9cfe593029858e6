# ruff: noqa: E501  (the sample report has perf's whole symbols)
"""The profile report's parsing of ``perf report`` and its grouping into categories."""

from __future__ import annotations

import pytest

from index.bench_profile import Sample, by_category, category, inclusive_shares, parse_perf_report, short_symbol

PERF_TEXT = """\
# To display the perf.data header info, please use --header/--header-only options.
#
# Samples: 1K of event 'cpu-clock:ppp'
#
# Overhead  Shared Object            Symbol
# ........  .......................  ......
#
     9.49%  libc.so.6                [.] __memmove_avx512_unaligned_erms
     5.54%  [kernel.kallsyms]        [k] _raw_spin_unlock_irqrestore
     4.81%  libc.so.6                [.] __memcmp_evex_movbe
     2.57%  _polars_runtime.abi3.so  [.] <polars_expr::groups::key_rows::KeyRowHashGrouper as polars_expr::groups::Grouper>::insert_keys_subset
     2.13%  _polars_runtime.abi3.so  [.] <chrono::format::formatting::DelayedFormat<core::slice::iter::Iter<chrono::format::Item>>>::write_to::<alloc::string::String>
     2.00%  libcrypto.so.3           [.] sha256_block_data_order_shaext
     1.50%  _duckdb.cpython-311-x86_64-linux-gnu.so  [.] duckdb::ARTKey::CreateARTKey<duckdb::string_t>
     1.20%  _duckdb.cpython-311-x86_64-linux-gnu.so  [.] duckdb::dict_fsst::DictFSSTCompressionState::CompressInternal
     1.00%  _duckdb.cpython-311-x86_64-linux-gnu.so  [.] duckdb::PhysicalInsert::Sink
     0.80%  _polars_runtime.abi3.so  [.] polars_core::chunked_array::ops::gather::gather_idx_array_unchecked<f64>
     0.50%  libpython3.11.so.1.0     [.] _PyEval_EvalFrameDefault
     0.30%  libfoo.so                [.] something
     0.20%  libc.so.6                [.] pthread_mutex_lock@@GLIBC_2.2.5
"""

CHILDREN_TEXT = """\
# Children      Self  Symbol
#
    53.15%     0.00%  [.] duckdb::ExecutorTask::Execute
    25.10%     0.19%  [.] duckdb::ART::Append
    22.66%     0.05%  [.] duckdb::ART::InsertKeys
    16.51%     0.00%  [.] duckdb::RowGroup::WriteToDisk
    13.12%     0.00%  [.] duckdb::RowGroup::WriteToDisk
"""


def test_every_sample_line_is_parsed_and_headers_are_not() -> None:
    samples = parse_perf_report(PERF_TEXT)
    assert len(samples) == 13
    assert samples[0] == Sample(9.49, "libc.so.6", "__memmove_avx512_unaligned_erms")
    assert samples[3].symbol.endswith("::insert_keys_subset")
    assert sum(s.percent for s in samples) == pytest.approx(32.04)


@pytest.mark.parametrize(("index", "expected"), [
    (0, "memory copy (memmove/memcpy)"),
    (1, "kernel: page faults, memory management, scheduling"),
    (2, "byte comparison (memcmp: string and row-encoded keys)"),
    (3, "polars: hashing and group-by"),
    (4, "polars: datetime and number formatting"),
    (5, "SHA-256 (OpenSSL: the inputs hash)"),
    (6, "DuckDB: ART index (the primary key)"),
    (7, "DuckDB: string storage and compression (FSST, dictionary)"),
    (8, "DuckDB: other"),
    (9, "polars: gather, filter, concatenate, cast"),
    (10, "Python interpreter"),
    (11, "other (libc, numpy and other libraries)"),
    (12, "locks (pthread mutex)"),
])
def test_each_symbol_falls_in_its_category(index: int, expected: str) -> None:
    assert category(parse_perf_report(PERF_TEXT)[index]) == expected


def test_categories_sum_their_samples_largest_first() -> None:
    samples = [Sample(1.0, "libc.so.6", "__memmove_x"), Sample(2.5, "libc.so.6", "__memcpy_y"),
               Sample(3.0, "[kernel.kallsyms]", "exc_page_fault")]
    assert by_category(samples) == [("memory copy (memmove/memcpy)", 3.5),
                                    ("kernel: page faults, memory management, scheduling", 3.0)]


def test_short_symbols_keep_the_outer_type_and_drop_deep_generics() -> None:
    sym = ("<polars_utils::parma::raw::RawTable<str, u32>>::try_get_or_insert_with::<polars_error::PolarsError, "
           "<polars_dtype::categorical::mapping::CategoricalMapping>::insert_cat_with_hash::{closure#0}>")
    short = short_symbol(sym, width=200)
    assert short.startswith("<polars_utils::parma::raw::RawTable<>>::try_get_or_insert_with::<polars_error")
    assert "{closure}" in short and "u32" not in short
    assert short_symbol("a|b" * 100, width=20) == ("a/b" * 100)[:17] + "..."


def test_inclusive_shares_take_each_named_function_once_and_zero_for_the_unsampled() -> None:
    shares = inclusive_shares(CHILDREN_TEXT, ["duckdb::ART::Append", "duckdb::RowGroup::WriteToDisk", "missing::f"])
    # a function listed twice (two inlined copies) counts at its larger share, not the sum
    assert shares == {"duckdb::ART::Append": 25.10, "duckdb::RowGroup::WriteToDisk": 16.51, "missing::f": 0.0}
