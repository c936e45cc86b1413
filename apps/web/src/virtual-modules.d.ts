declare module 'virtual:mnist-digits' {
  /** URL of the bundled MNIST subset (see build/mnist-digits-plugin.ts). */
  const url: string;
  export default url;
}
