"""SEG-Y header field tables used by the MDIO v0 layout.

The trace-header table is the standard SEG-Y rev1 trace header as the reference implementation stores it:
90 named fields at their standard 1-based byte positions, ending with an 8-byte ``unassigned`` word.
The binary-header table names the 3200..3600 byte fields with the snake_case keys of the v0 ``binary_header``
attribute, plus the rev2 fields the reference does not keep (kept here so that nothing of a file is lost).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np

TRACE_HEADER_SIZE: Final = 240
TEXT_HEADER_SIZE: Final = 3200
BINARY_HEADER_SIZE: Final = 400
FILE_HEADER_SIZE: Final = TEXT_HEADER_SIZE + BINARY_HEADER_SIZE

#: (name, type, 1-based byte) for every word of the 240-byte trace header, as MDIO v0 names them.
TRACE_HEADER_FIELDS: Final[tuple[tuple[str, str, int], ...]] = (
    ("trace_seq_num_line", "int32", 1),
    ("trace_seq_num_reel", "int32", 5),
    ("orig_field_record_num", "int32", 9),
    ("trace_num_orig_record", "int32", 13),
    ("energy_source_point_num", "int32", 17),
    ("ensemble_num", "int32", 21),
    ("trace_num_ensemble", "int32", 25),
    ("trace_id_code", "int16", 29),
    ("vertically_summed_traces", "int16", 31),
    ("horizontally_stacked_traces", "int16", 33),
    ("data_use", "int16", 35),
    ("source_to_receiver_distance", "int32", 37),
    ("receiver_group_elevation", "int32", 41),
    ("source_surface_elevation", "int32", 45),
    ("source_depth_below_surface", "int32", 49),
    ("receiver_datum_elevation", "int32", 53),
    ("source_datum_elevation", "int32", 57),
    ("source_water_depth", "int32", 61),
    ("receiver_water_depth", "int32", 65),
    ("elevation_depth_scalar", "int16", 69),
    ("coordinate_scalar", "int16", 71),
    ("source_coord_x", "int32", 73),
    ("source_coord_y", "int32", 77),
    ("group_coord_x", "int32", 81),
    ("group_coord_y", "int32", 85),
    ("coordinate_unit", "int16", 89),
    ("weathering_velocity", "int16", 91),
    ("subweathering_velocity", "int16", 93),
    ("source_uphole_time", "int16", 95),
    ("group_uphole_time", "int16", 97),
    ("source_static_correction", "int16", 99),
    ("receiver_static_correction", "int16", 101),
    ("total_static_applied", "int16", 103),
    ("lag_time_a", "int16", 105),
    ("lag_time_b", "int16", 107),
    ("delay_recording_time", "int16", 109),
    ("mute_time_start", "int16", 111),
    ("mute_time_end", "int16", 113),
    ("samples_per_trace", "int16", 115),
    ("sample_interval", "int16", 117),
    ("instrument_gain_type", "int16", 119),
    ("instrument_gain_const", "int16", 121),
    ("instrument_gain_initial", "int16", 123),
    ("correlated_data", "int16", 125),
    ("sweep_freq_start", "int16", 127),
    ("sweep_freq_end", "int16", 129),
    ("sweep_length", "int16", 131),
    ("sweep_type", "int16", 133),
    ("sweep_taper_start", "int16", 135),
    ("sweep_taper_end", "int16", 137),
    ("taper_type", "int16", 139),
    ("alias_filter_freq", "int16", 141),
    ("alias_filter_slope", "int16", 143),
    ("notch_filter_freq", "int16", 145),
    ("notch_filter_slope", "int16", 147),
    ("low_cut_freq", "int16", 149),
    ("high_cut_freq", "int16", 151),
    ("low_cut_slope", "int16", 153),
    ("high_cut_slope", "int16", 155),
    ("year_recorded", "int16", 157),
    ("day_of_year", "int16", 159),
    ("hour_of_day", "int16", 161),
    ("minute_of_hour", "int16", 163),
    ("second_of_minute", "int16", 165),
    ("time_basis_code", "int16", 167),
    ("trace_weighting_factor", "int16", 169),
    ("group_num_roll_switch", "int16", 171),
    ("group_num_first_trace", "int16", 173),
    ("group_num_last_trace", "int16", 175),
    ("gap_size", "int16", 177),
    ("taper_overtravel", "int16", 179),
    ("cdp_x", "int32", 181),
    ("cdp_y", "int32", 185),
    ("inline", "int32", 189),
    ("crossline", "int32", 193),
    ("shot_point", "int32", 197),
    ("shot_point_scalar", "int16", 201),
    ("trace_value_unit", "int16", 203),
    ("transduction_const_mantissa", "int32", 205),
    ("transduction_const_exponent", "int16", 209),
    ("transduction_unit", "int16", 211),
    ("device_trace_id", "int16", 213),
    ("times_scalar", "int16", 215),
    ("source_type_orientation", "int16", 217),
    ("source_energy_dir_mantissa", "int32", 219),
    ("source_energy_dir_exponent", "int16", 223),
    ("source_measurement_mantissa", "int32", 225),
    ("source_measurement_exponent", "int16", 229),
    ("source_measurement_unit", "int16", 231),
    ("unassigned", "int64", 233),
)

#: (name, type, 1-based byte within the file) of the 400-byte binary header. Sample counts and intervals are
#: unsigned: files with 60000 samples exist, and a signed read would turn them negative.
BINARY_HEADER_FIELDS: Final[tuple[tuple[str, str, int], ...]] = (
    ("job_id", "int32", 3201),
    ("line_num", "int32", 3205),
    ("reel_num", "int32", 3209),
    ("data_traces_per_ensemble", "int16", 3213),
    ("aux_traces_per_ensemble", "int16", 3215),
    ("sample_interval", "uint16", 3217),
    ("orig_sample_interval", "uint16", 3219),
    ("samples_per_trace", "uint16", 3221),
    ("orig_samples_per_trace", "uint16", 3223),
    ("data_sample_format", "int16", 3225),
    ("ensemble_fold", "int16", 3227),
    ("trace_sorting_code", "int16", 3229),
    ("vertical_sum_code", "int16", 3231),
    ("sweep_freq_start", "int16", 3233),
    ("sweep_freq_end", "int16", 3235),
    ("sweep_length", "int16", 3237),
    ("sweep_type_code", "int16", 3239),
    ("sweep_trace_num", "int16", 3241),
    ("sweep_taper_start", "int16", 3243),
    ("sweep_taper_end", "int16", 3245),
    ("taper_type_code", "int16", 3247),
    ("correlated_data_code", "int16", 3249),
    ("binary_gain_code", "int16", 3251),
    ("amp_recovery_code", "int16", 3253),
    ("measurement_system_code", "int16", 3255),
    ("impulse_polarity_code", "int16", 3257),
    ("vibratory_polarity_code", "int16", 3259),
    ("extended_data_traces_per_ensemble", "int32", 3261),
    ("extended_aux_traces_per_ensemble", "int32", 3265),
    ("extended_samples_per_trace", "int32", 3269),
    ("extended_sample_interval", "float64", 3273),
    ("extended_orig_sample_interval", "float64", 3281),
    ("extended_orig_samples_per_trace", "int32", 3289),
    ("extended_ensemble_fold", "int32", 3293),
    ("byte_order", "int32", 3297),
    ("segy_revision_major", "uint8", 3501),
    ("segy_revision_minor", "uint8", 3502),
    ("fixed_length_trace_flag", "int16", 3503),
    ("num_extended_text_headers", "int16", 3505),
    ("max_additional_trace_headers", "int32", 3507),
    ("time_basis_code", "int16", 3511),
    ("num_traces_in_file", "uint64", 3513),
    ("first_trace_byte_offset", "uint64", 3521),
    ("num_data_trailer_stanzas", "int32", 3529),
)

#: The keys the reference implementation keeps in the ``binary_header`` attribute, in its order.
V0_BINARY_HEADER_KEYS: Final[tuple[str, ...]] = (
    "job_id",
    "line_num",
    "reel_num",
    "data_traces_per_ensemble",
    "aux_traces_per_ensemble",
    "sample_interval",
    "orig_sample_interval",
    "samples_per_trace",
    "orig_samples_per_trace",
    "data_sample_format",
    "ensemble_fold",
    "trace_sorting_code",
    "vertical_sum_code",
    "sweep_freq_start",
    "sweep_freq_end",
    "sweep_length",
    "sweep_type_code",
    "sweep_trace_num",
    "sweep_taper_start",
    "sweep_taper_end",
    "taper_type_code",
    "correlated_data_code",
    "binary_gain_code",
    "amp_recovery_code",
    "measurement_system_code",
    "impulse_polarity_code",
    "vibratory_polarity_code",
    "extended_data_traces_per_ensemble",
    "extended_aux_traces_per_ensemble",
    "extended_samples_per_trace",
    "extended_orig_samples_per_trace",
    "extended_ensemble_fold",
    "fixed_length_trace_flag",
    "num_extended_text_headers",
    "segy_revision_major",
    "segy_revision_minor",
)


def trace_header_dtype(byte_order: Literal["<", ">"] = "<") -> np.dtype:
    """Structured dtype of the 240-byte trace header (packed, standard positions).

    MDIO v0 stores headers little-endian (native numpy); the SEG-Y reader uses ``byte_order=">"`` to view raw
    big-endian headers with the same field names.
    """
    names = [n for n, _, _ in TRACE_HEADER_FIELDS]
    formats = [np.dtype(t).newbyteorder(byte_order) for _, t, _ in TRACE_HEADER_FIELDS]
    offsets = [b - 1 for _, _, b in TRACE_HEADER_FIELDS]
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": TRACE_HEADER_SIZE})


#: The v0 trace-header dtype in the byte order MDIO stores it (little-endian, as the reference writes it).
TRACE_HEADER_DTYPE: Final = trace_header_dtype("<")
