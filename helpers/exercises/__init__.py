"""Self-checks for the notebooks' exercises.

Each `check_NN_<topic>(your_answer)` runs the student's answer on a few
inputs, compares it with an independent reference and prints what is wrong
(not only that it is wrong). It returns True when the answer is right, and
never raises, so an unfinished exercise does not stop "run all".

The checks of notebook `NN_<name>.ipynb` live in `nbNN_<name>.py`; what
several notebooks' checks share lives in `_common.py`. They are all
re-exported here: `from helpers.exercises import check_NN_<topic>`.
"""
from helpers.exercises.nb01_scaled_dot_product_attention import (check_01_attention, check_01_causal_mask,
                                                                 check_01_scores, check_01_softmax)
from helpers.exercises.nb02_self_attention_layer import (check_02_cross_attention, check_02_parameter_count,
                                                         check_02_self_attention, check_02_softmax_axis)
from helpers.exercises.nb03_multi_head_attention import (check_03_merge_heads, check_03_multi_head_attention,
                                                         check_03_parameter_count, check_03_split_heads)
from helpers.exercises.nb04_masks import (check_04_combined_mask, check_04_fully_masked_rows,
                                          check_04_masked_softmax, check_04_padding_mask)
from helpers.exercises.nb05_positional_encoding import (check_05_offset_similarity, check_05_permutation_test,
                                                        check_05_sinusoidal_encoding)
from helpers.exercises.nb06_transformer_encoder import (check_06_add_and_norm, check_06_dropout,
                                                        check_06_encoder_parameters, check_06_pre_post_ln)
from helpers.exercises.nb07_imdb_sentiment import (check_07_confident_mistakes, check_07_masked_mean,
                                                   check_07_token_dropout)
from helpers.exercises.nb08_lstm_vs_attention import (check_08_attention_entropy, check_08_keep_last,
                                                      check_08_lstm_params)
from helpers.exercises.nb09_translation_encoder_decoder import (check_09_cross_attention,
                                                                check_09_masked_accuracy, check_09_shift)
from helpers.exercises.nb10_text_generation import (check_10_cache_step, check_10_distinct_n,
                                                    check_10_perplexities, check_10_top_p)
from helpers.exercises.nb11_pretrained_attention import check_11_mean_pool, check_11_previous_token

__all__ = sorted(name for name in dir() if name.startswith("check_"))
