/// Every notebook's code cells, run in order through `dotnet fsi` against the built library, so a
/// notebook that no longer runs fails CI.
module RL2.Tests.NotebookTests

open System.Diagnostics
open System.IO
open System.Text.Json
open Expecto

let notebooks = Path.GetFullPath(Path.Combine(CliTests.repositoryRoot, "notebooks"))

/// The F# source of a notebook's code cells, in order.
let codeOf (path: string) =
    use doc = JsonDocument.Parse(File.ReadAllText path)
    [ for cell in doc.RootElement.GetProperty("cells").EnumerateArray() do
          if cell.GetProperty("cell_type").GetString() = "code" then
              yield cell.GetProperty("source").EnumerateArray() |> Seq.map _.GetString() |> String.concat "" ]
    |> String.concat "\n\n"

let runScript (script: string) =
    let psi = ProcessStartInfo("dotnet", $"fsi \"{script}\"", WorkingDirectory = notebooks, RedirectStandardOutput = true, RedirectStandardError = true)
    use p = Process.Start psi
    let out = p.StandardOutput.ReadToEndAsync()
    let err = p.StandardError.ReadToEnd()
    p.WaitForExit()
    p.ExitCode, out.Result, err

[<Tests>]
let tests =
    testSequenced
    <| testList "notebooks" [
        for path in Directory.GetFiles(notebooks, "*.ipynb") |> Array.sort ->
            test (Path.GetFileNameWithoutExtension path) {
                let script = Path.Combine(notebooks, $".run-{Path.GetFileNameWithoutExtension path}.fsx")
                File.WriteAllText(script, codeOf path)
                try
                    let code, out, err = runScript script
                    Expect.equal code 0 $"the notebook's cells run\n{out}\n{err}"
                finally
                    File.Delete script
            }
    ]
