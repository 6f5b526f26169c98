/// A thin binding of the system Open MPI (`libmpi.so.40`, Debian's `libopenmpi3`) behind the
/// Communicator record. The library is loaded on the first call, so single-process runs never need it.
module RL2.Dist.Mpi

open System
open System.Runtime.InteropServices

[<Literal>]
let private Lib = "libmpi.so.40"

[<DllImport(Lib)>]
extern int private MPI_Init_thread(nativeint argc, nativeint argv, int required, int& provided)

[<DllImport(Lib)>]
extern int private MPI_Finalize()

[<DllImport(Lib)>]
extern int private MPI_Comm_rank(nativeint comm, int& rank)

[<DllImport(Lib)>]
extern int private MPI_Comm_size(nativeint comm, int& size)

[<DllImport(Lib)>]
extern int private MPI_Comm_set_errhandler(nativeint comm, nativeint handler)

[<DllImport(Lib)>]
extern int private MPI_Allreduce(nativeint sendbuf, float32[] recvbuf, int count, nativeint datatype, nativeint op, nativeint comm)

[<DllImport(Lib)>]
extern int private MPI_Bcast(byte[] buffer, int count, nativeint datatype, int root, nativeint comm)

[<DllImport(Lib)>]
extern int private MPI_Allgather(byte[] sendbuf, int sendcount, nativeint sendtype, byte[] recvbuf, int recvcount, nativeint recvtype, nativeint comm)

[<DllImport(Lib)>]
extern int private MPI_Abort(nativeint comm, int errorcode)

[<DllImport(Lib)>]
extern int private MPI_Error_string(int errorcode, byte[] text, int& length)

/// mpi.h: MPI_THREAD_SERIALIZED. Expecto and the thread pool may call from different threads, one at a time.
let private threadSerialized = 2

/// mpi.h: MPI_IN_PLACE is ((void *) 1).
let private inPlace = 1n

/// Open MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, …) are the addresses of exported objects.
type private Handles =
    { World: nativeint
      Float: nativeint
      Byte: nativeint
      Sum: nativeint
      ErrorsReturn: nativeint }

let private handles =
    lazy
        (let lib = NativeLibrary.Load Lib
         let get name = NativeLibrary.GetExport(lib, name)
         { World = get "ompi_mpi_comm_world"
           Float = get "ompi_mpi_float"
           Byte = get "ompi_mpi_byte"
           Sum = get "ompi_mpi_op_sum"
           ErrorsReturn = get "ompi_mpi_errors_return" })

/// MPI error codes become exceptions (errors return instead of aborting, see `init`).
let private check (call: string) (code: int) =
    if code <> 0 then
        let text = Array.zeroCreate<byte> 256 // MPI_MAX_ERROR_STRING
        let mutable length = 0
        MPI_Error_string(code, text, &length) |> ignore
        failwith $"{call} failed: {Text.Encoding.ASCII.GetString(text, 0, length)}"

/// The process count when started by Open MPI's mpiexec, which sets OMPI_COMM_WORLD_SIZE in every process.
let worldSize () =
    match Environment.GetEnvironmentVariable "OMPI_COMM_WORLD_SIZE" with
    | null
    | "" -> None
    | n -> Some(int n)

/// Initialises MPI and returns the communicator over all processes of the job.
let init () : Communicator =
    let mutable provided = 0
    check "MPI_Init_thread" (MPI_Init_thread(0n, 0n, threadSerialized, &provided))
    if provided < threadSerialized then failwith "this Open MPI does not support MPI_THREAD_SERIALIZED"
    let h = handles.Force()
    // A failed call raises on its own rank, whose top level then aborts the whole job with a message.
    check "MPI_Comm_set_errhandler" (MPI_Comm_set_errhandler(h.World, h.ErrorsReturn))
    let mutable rank, size = 0, 0
    check "MPI_Comm_rank" (MPI_Comm_rank(h.World, &rank))
    check "MPI_Comm_size" (MPI_Comm_size(h.World, &size))
    let bcast (buffer: byte[]) = check "MPI_Bcast" (MPI_Bcast(buffer, buffer.Length, h.Byte, 0, h.World))
    { Rank = rank
      Size = size
      AllreduceSum = fun buffer -> check "MPI_Allreduce" (MPI_Allreduce(inPlace, buffer, buffer.Length, h.Float, h.Sum, h.World))
      Broadcast =
        fun bytes ->
            let length = BitConverter.GetBytes(int64 bytes.Length)
            bcast length
            let buffer = if rank = 0 then bytes else Array.zeroCreate (int (BitConverter.ToInt64(length, 0)))
            bcast buffer
            buffer
      Allgather =
        fun bytes ->
            let all = Array.zeroCreate<byte> (bytes.Length * size)
            check "MPI_Allgather" (MPI_Allgather(bytes, bytes.Length, h.Byte, all, bytes.Length, h.Byte, h.World))
            all }

let finalize () = check "MPI_Finalize" (MPI_Finalize())

/// Ends every process of the job with `code`: the others may be waiting in a collective for this one.
let abort (code: int) : 'T =
    MPI_Abort(handles.Force().World, code) |> ignore
    exit code
