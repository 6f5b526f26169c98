/// Architectures as values in a table: the CLI's choices, open to users' own entries.
namespace RL2.Nn

open TorchSharp
open RL2

/// What an architecture is built from.
type ArchitectureSpec =
    { InputWidth: int
      NumFeatures: int
      /// Timesteps per meta-episode (the attention context of SNAIL and the Transformer).
      ContextSize: int }

type Architecture =
    { Name: string
      Description: string
      /// Builds the memory core (input → features), drawing initial weights from the generator.
      Build: Generator -> ArchitectureSpec -> Layer }

module Architecture =
    /// The forget bias of the reference's GRU and LSTM (its `--forget_bias` default).
    let referenceForgetBias = 1.0f

    let private biasText (b: float32) = b.ToString("0.0###", System.Globalization.CultureInfo.InvariantCulture)

    /// The GRU whose update gate is shifted by -forgetBias (larger: more of the state kept per step).
    let gruWith (forgetBias: float32) =
        { Name = "gru"
          Description = $"layer-normalised GRU, reset-after, forget bias {biasText forgetBias}"
          Build = fun gen spec -> Gru.layer gen forgetBias spec.InputWidth spec.NumFeatures }

    /// The LSTM whose forget gate is shifted by +forgetBias.
    let lstmWith (forgetBias: float32) =
        { Name = "lstm"
          Description = $"layer-normalised LSTM, forget bias {biasText forgetBias}"
          Build = fun gen spec -> Lstm.layer gen forgetBias spec.InputWidth spec.NumFeatures }

    let gru = gruWith referenceForgetBias

    let lstm = lstmWith referenceForgetBias

    let snail =
        { Name = "snail"
          Description = "SNAIL: two TC blocks and causal attention (the papers used 32 features)"
          Build = fun gen spec -> Snail.layer gen spec.ContextSize spec.InputWidth spec.NumFeatures }

    let transformer (options: Transformer.Options) =
        { Name = "transformer"
          Description = $"Transformer, {options.Layers} layers, {options.Heads} heads"
          Build = fun gen spec -> Transformer.layer options gen spec.ContextSize spec.InputWidth spec.NumFeatures }

    /// The built-in architectures, the GRU and LSTM with `forgetBias`, the Transformer configured by `options`.
    let standard (forgetBias: float32) (options: Transformer.Options) =
        [ gruWith forgetBias; lstmWith forgetBias; snail; transformer options ]

    let table = standard referenceForgetBias Transformer.reference

    /// The architectures a forget bias applies to.
    let gated = set [ gru.Name; lstm.Name ]

    let tryFind name (table: Architecture list) = table |> List.tryFind (fun a -> a.Name = name)
