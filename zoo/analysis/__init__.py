"""Looking inside trained recurrent models: LSTM activations over text, and gradients through time.

- `zoo.analysis.activations`: the cell state, output and gates of an LSTM layer at every
  character or token (Karpathy, Johnson & Fei-Fei 2015), an HTML view coloured per character,
  and the cells that best follow simple text features (inside quotes, position in the line).
- `zoo.analysis.gradients` (TensorFlow): how much of the gradient of the last state reaches each
  earlier input, per cell kind: the vanishing-gradient picture (Bengio et al. 1994; Hochreiter &
  Schmidhuber 1997), as numbers and as a plot.
"""
